package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

func (s *Server) listQueue(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	p, err := s.queue.Queue(r.Context(), store.QueueQuery{
		GroupID: r.PathValue("id"), Cursor: r.URL.Query().Get("cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page[jobJSON]{Items: toJobsJSON(p.Items), NextCursor: p.NextCursor})
	return nil
}

// enqueueRequest is either a job from a template or a manual job (owner,
// repo, workflow_id, ref) in a repository where the App is installed.
type enqueueRequest struct {
	TemplateID   string            `json:"template_id"`
	Owner        string            `json:"owner"`
	Repo         string            `json:"repo"`
	WorkflowID   string            `json:"workflow_id"`
	Name         string            `json:"name"`
	Ref          string            `json:"ref"`
	Inputs       map[string]string `json:"inputs"`
	Position     string            `json:"position"`
	AutoRequeue  bool              `json:"auto_requeue"`
	RequeueLimit int               `json:"requeue_limit"`
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	var req enqueueRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.TemplateID == "" {
		if err := s.checkInstalled(r, req.Owner, req.Repo); err != nil {
			return err
		}
	}
	p := principalFrom(r.Context())
	source := core.JobSourceUI
	if p.Kind == kindToken {
		source = core.JobSourceAPI
	}
	j, err := s.queue.Enqueue(r.Context(), queue.EnqueueRequest{
		GroupID: r.PathValue("id"), TemplateID: req.TemplateID, Owner: req.Owner, Repo: req.Repo,
		WorkflowID: req.WorkflowID, Name: req.Name, Ref: req.Ref, Inputs: req.Inputs,
		Position: req.Position, AutoRequeue: req.AutoRequeue, RequeueLimit: req.RequeueLimit,
		Source: source, CreatedBy: p.Name,
	})
	if err != nil {
		return err
	}
	s.audit(r, p.Name, "enqueue", jobTarget(j.ID), map[string]any{
		"group": j.GroupID, "template": j.TemplateID, "repo": j.Owner + "/" + j.Repo, "workflow": j.WorkflowID,
	})
	writeJSON(w, http.StatusCreated, toJobJSON(j))
	return nil
}

// checkInstalled refuses manual jobs for repositories the App cannot
// dispatch to, before anything is written.
func (s *Server) checkInstalled(r *http.Request, owner, repo string) error {
	if strings.TrimSpace(owner) == "" {
		return badRequest("owner", "is required for a job without template_id")
	}
	if strings.TrimSpace(repo) == "" {
		return badRequest("repo", "is required for a job without template_id")
	}
	_, err := s.store.InstallationForRepo(r.Context(), owner, repo)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return badRequest("repo", "the GitHub App is not installed on %s/%s", owner, repo)
	case errors.Is(err, store.ErrInstallationSuspended):
		return badRequest("repo", "the GitHub App's installation on %s is suspended", owner)
	}
	return err
}

func jobTarget(id int64) string { return "job:" + strconv.FormatInt(id, 10) }

// reorderRequest is either the new order of the pending jobs or one move.
type reorderRequest struct {
	JobIDs []int64 `json:"job_ids"`
	JobID  int64   `json:"job_id"`
	Before *int64  `json:"before"`
}

func (s *Server) reorder(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	var req reorderRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	group := r.PathValue("id")
	p := principalFrom(r.Context())
	switch {
	case req.JobIDs != nil && req.JobID != 0:
		return badRequest("job_ids", "send either job_ids or job_id/before, not both")
	case req.JobIDs != nil:
		if err := s.queue.Reorder(r.Context(), group, req.JobIDs); err != nil {
			return err
		}
		s.audit(r, p.Name, "reorder", "group:"+group, map[string]any{"job_ids": req.JobIDs})
	case req.JobID > 0:
		j, err := s.queue.GetJob(r.Context(), req.JobID)
		if err != nil {
			return err
		}
		if j.GroupID != group {
			return badRequest("job_id", "job %d belongs to group %s, not %s", j.ID, j.GroupID, group)
		}
		if _, err := s.queue.Move(r.Context(), req.JobID, req.Before); err != nil {
			return err
		}
		s.audit(r, p.Name, "reorder", jobTarget(req.JobID), map[string]any{"group": group, "before": req.Before})
	default:
		return badRequest("job_ids", "send job_ids (the new order) or job_id with before")
	}
	pg, err := s.queue.Queue(r.Context(), store.QueueQuery{GroupID: group})
	if err != nil {
		return fmt.Errorf("read queue after reorder: %w", err)
	}
	writeJSON(w, http.StatusOK, page[jobJSON]{Items: toJobsJSON(pg.Items), NextCursor: pg.NextCursor})
	return nil
}
