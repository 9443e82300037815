package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// history pages a group's finished jobs: ?status=failed,cancelled
// &label=key=value (repeatable, all must match) &cursor= &limit=.
func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	q := r.URL.Query()
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	hq := store.HistoryQuery{GroupID: r.PathValue("id"), Cursor: q.Get("cursor"), Limit: limit}
	for _, v := range q["status"] {
		for st := range strings.SplitSeq(v, ",") {
			js := core.JobStatus(strings.TrimSpace(st))
			if !js.Terminal() {
				return badRequest("status", "%q: want completed, failed or cancelled", st)
			}
			hq.Statuses = append(hq.Statuses, js)
		}
	}
	for _, l := range q["label"] {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return badRequest("label", "%q: want key=value", l)
		}
		if hq.Labels == nil {
			hq.Labels = map[string]string{}
		}
		hq.Labels[k] = v
	}
	p, err := s.queue.History(r.Context(), hq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page[jobJSON]{Items: toJobsJSON(p.Items), NextCursor: p.NextCursor})
	return nil
}

// historyStats counts finished jobs per bucket: ?since= (RFC 3339 time or a
// duration back from now, default 24h) &bucket= (duration, default 1h).
func (s *Server) historyStats(w http.ResponseWriter, r *http.Request) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	q := r.URL.Query()
	since := s.now().Add(-24 * time.Hour)
	if v := q.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			since = t
		} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
			since = s.now().Add(-d)
		} else {
			return badRequest("since", "%q: want an RFC 3339 time or a positive duration such as 24h", v)
		}
	}
	bucket := time.Hour
	if v := q.Get("bucket"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return badRequest("bucket", "%q: want a duration of at least 1m", v)
		}
		bucket = d
	}
	b, err := s.queue.HistoryStats(r.Context(), r.PathValue("id"), since, bucket)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(b))
	return nil
}
