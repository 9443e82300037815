package server

import (
	"net/http"

	"github.com/ethpandaops/dispatchoor/queue"
)

// bulkRequest applies one action to many jobs.
type bulkRequest struct {
	Action string  `json:"action"`
	JobIDs []int64 `json:"job_ids"`
}

// bulkResult is one job's outcome; a failure carries the same error and code
// the single-job route would have answered. Warning is set when the change
// was applied but a side effect was not (GitHub refused a run's cancel; the
// reconciler retries it).
type bulkResult struct {
	JobID   int64    `json:"job_id"`
	OK      bool     `json:"ok"`
	Job     *jobJSON `json:"job,omitempty"`
	Error   string   `json:"error,omitempty"`
	Code    string   `json:"code,omitempty"`
	Warning string   `json:"warning,omitempty"`
}

// bulkJobs applies the action to every job in one transaction (queue.Bulk):
// the jobs it applies to change together, the others report why not, and a
// database failure changes none (500).
func (s *Server) bulkJobs(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	var req bulkRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p := principalFrom(r.Context())
	out, err := s.queue.Bulk(r.Context(), queue.BulkRequest{Action: queue.BulkAction(req.Action), JobIDs: req.JobIDs, Actor: p.Name})
	if err != nil {
		return err
	}
	results := make([]bulkResult, 0, len(out))
	okCount := 0
	for _, o := range out {
		if o.Err != nil {
			ae, known := toAPIError(o.Err)
			if !known {
				s.log.Error().Err(o.Err).Int64("job", o.JobID).Str("action", req.Action).Msg("bulk action failed")
			}
			results = append(results, bulkResult{JobID: o.JobID, Error: ae.Msg, Code: ae.Code})
			continue
		}
		okCount++
		res := bulkResult{JobID: o.JobID, OK: true}
		if o.Job != nil {
			jj := toJobJSON(*o.Job)
			res.Job = &jj
		}
		if o.CancelErr != nil {
			res.Warning = "the cancel is recorded, but GitHub did not accept the run's cancel yet; it will be retried"
		}
		results = append(results, res)
	}
	s.audit(r, p.Name, req.Action, "bulk", map[string]any{"job_ids": req.JobIDs, "succeeded": okCount})
	writeJSON(w, http.StatusOK, map[string]any{"action": req.Action, "results": results})
	return nil
}
