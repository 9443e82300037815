package server

import (
	"context"
	"net/http"
	"slices"

	"github.com/ethpandaops/dispatchoor/core"
)

const maxBulk = 500

// bulkRequest applies one action to many jobs.
type bulkRequest struct {
	Action string  `json:"action"`
	JobIDs []int64 `json:"job_ids"`
}

// bulkResult is one job's outcome; a failure carries the same error and code
// the single-job route would have answered.
type bulkResult struct {
	JobID int64    `json:"job_id"`
	OK    bool     `json:"ok"`
	Job   *jobJSON `json:"job,omitempty"`
	Error string   `json:"error,omitempty"`
	Code  string   `json:"code,omitempty"`
}

var bulkActions = []string{"pause", "unpause", "cancel", "delete", "disable_requeue"}

func (s *Server) bulkJobs(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	var req bulkRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if !slices.Contains(bulkActions, req.Action) {
		return badRequest("action", "%q: want one of %v", req.Action, bulkActions)
	}
	if len(req.JobIDs) == 0 || len(req.JobIDs) > maxBulk {
		return badRequest("job_ids", "want 1 to %d job ids, got %d", maxBulk, len(req.JobIDs))
	}
	seen := map[int64]bool{}
	for _, id := range req.JobIDs {
		if id <= 0 {
			return badRequest("job_ids", "%d is not a job id", id)
		}
		if seen[id] {
			return badRequest("job_ids", "job %d is listed twice", id)
		}
		seen[id] = true
	}
	p := principalFrom(r.Context())
	do := s.bulkAction(req.Action, p.Name)
	results := make([]bulkResult, 0, len(req.JobIDs))
	okCount := 0
	for _, id := range req.JobIDs {
		j, err := do(r.Context(), id)
		if err != nil {
			ae, known := toAPIError(err)
			if !known {
				s.log.Error().Err(err).Int64("job", id).Str("action", req.Action).Msg("bulk action failed")
			}
			results = append(results, bulkResult{JobID: id, Error: ae.Msg, Code: ae.Code})
			continue
		}
		okCount++
		res := bulkResult{JobID: id, OK: true}
		if j != nil {
			jj := toJobJSON(*j)
			res.Job = &jj
		}
		results = append(results, res)
	}
	s.audit(r, p.Name, req.Action, "bulk", map[string]any{"job_ids": req.JobIDs, "succeeded": okCount})
	writeJSON(w, http.StatusOK, map[string]any{"action": req.Action, "results": results})
	return nil
}

func (s *Server) bulkAction(action, actor string) func(ctx context.Context, id int64) (*core.Job, error) {
	wrap := func(fn func(ctx context.Context, id int64) (core.Job, error)) func(context.Context, int64) (*core.Job, error) {
		return func(ctx context.Context, id int64) (*core.Job, error) {
			j, err := fn(ctx, id)
			if err != nil {
				return nil, err
			}
			return &j, nil
		}
	}
	switch action {
	case "pause":
		return wrap(s.queue.PauseJob)
	case "unpause":
		return wrap(s.queue.UnpauseJob)
	case "cancel":
		return wrap(func(ctx context.Context, id int64) (core.Job, error) { return s.queue.Cancel(ctx, id, actor) })
	case "disable_requeue":
		return wrap(s.disableRequeueOf)
	default: // delete
		return func(ctx context.Context, id int64) (*core.Job, error) { return nil, s.queue.DeletePending(ctx, id) }
	}
}
