package server

import (
	"context"
	"net/http"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
)

func (s *Server) jobRoute(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, id int64) (core.Job, error), action string) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := fn(r.Context(), id)
	if err != nil {
		return err
	}
	if action != "" {
		s.audit(r, principalFrom(r.Context()).Name, action, jobTarget(id), map[string]any{"group": j.GroupID})
	}
	writeJSON(w, http.StatusOK, toJobJSON(j))
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	return s.jobRoute(w, r, func(ctx context.Context, id int64) (core.Job, error) { return s.queue.GetJob(ctx, id) }, "")
}

func (s *Server) pauseJob(w http.ResponseWriter, r *http.Request) error {
	return s.jobRoute(w, r, func(ctx context.Context, id int64) (core.Job, error) { return s.queue.PauseJob(ctx, id) }, "pause")
}

func (s *Server) unpauseJob(w http.ResponseWriter, r *http.Request) error {
	return s.jobRoute(w, r, func(ctx context.Context, id int64) (core.Job, error) { return s.queue.UnpauseJob(ctx, id) }, "unpause")
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) error {
	actor := ""
	if p := principalFrom(r.Context()); p != nil {
		actor = p.Name
	}
	return s.jobRoute(w, r, func(ctx context.Context, id int64) (core.Job, error) { return s.queue.Cancel(ctx, id, actor) }, "cancel")
}

func (s *Server) disableRequeue(w http.ResponseWriter, r *http.Request) error {
	return s.jobRoute(w, r, s.disableRequeueOf, "disable_requeue")
}

func (s *Server) disableRequeueOf(ctx context.Context, id int64) (core.Job, error) {
	j, err := s.queue.GetJob(ctx, id)
	if err != nil {
		return core.Job{}, err
	}
	return s.queue.SetAutoRequeue(ctx, id, false, j.RequeueLimit)
}

type autoRequeueRequest struct {
	Enabled      *bool `json:"enabled"`
	RequeueLimit int   `json:"requeue_limit"`
}

func (s *Server) setAutoRequeue(w http.ResponseWriter, r *http.Request) error {
	var req autoRequeueRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return badRequest("enabled", "is required (true or false)")
	}
	return s.jobRoute(w, r, func(ctx context.Context, id int64) (core.Job, error) {
		return s.queue.SetAutoRequeue(ctx, id, *req.Enabled, req.RequeueLimit)
	}, "auto_requeue")
}

// updateJobRequest edits a pending job; absent fields stay as they are.
type updateJobRequest struct {
	Ref          *string           `json:"ref"`
	Inputs       map[string]string `json:"inputs"`
	AutoRequeue  *bool             `json:"auto_requeue"`
	RequeueLimit *int              `json:"requeue_limit"`
}

func (s *Server) updateJob(w http.ResponseWriter, r *http.Request) error {
	var req updateJobRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.jobRoute(w, r, func(ctx context.Context, id int64) (core.Job, error) {
		return s.queue.UpdatePending(ctx, queue.UpdateRequest{
			JobID: id, Ref: req.Ref, Inputs: req.Inputs, AutoRequeue: req.AutoRequeue, RequeueLimit: req.RequeueLimit,
		})
	}, "update")
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.queue.DeletePending(r.Context(), id); err != nil {
		return err
	}
	s.audit(r, principalFrom(r.Context()).Name, "delete", jobTarget(id), nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
