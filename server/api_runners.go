package server

import (
	"fmt"
	"net/http"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

func runnersJSON(rs []store.RunnerRecord) []store.RunnerRecord {
	for i := range rs {
		if rs[i].Labels == nil {
			rs[i].Labels = []string{}
		}
	}
	return rs
}

func (s *Server) listRunners(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.store.ListRunners(r.Context(), store.RunnerFilter{Scope: r.URL.Query().Get("scope")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(runnersJSON(rs)))
	return nil
}

// groupRunners lists the runners that serve a group: those carrying every
// one of its runner labels (case-insensitively, as GitHub matches).
func (s *Server) groupRunners(w http.ResponseWriter, r *http.Request) error {
	g, err := s.store.GetGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	rs, err := s.store.ListRunners(r.Context(), store.RunnerFilter{})
	if err != nil {
		return err
	}
	out := []store.RunnerRecord{}
	for _, rr := range rs {
		if core.HasLabels(rr.Labels, g.RunnerLabels) {
			out = append(out, rr)
		}
	}
	writeJSON(w, http.StatusOK, list(runnersJSON(out)))
	return nil
}

func (s *Server) refreshRunners(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Reconciler == nil {
		return errUnavailable("runner refresh (no dispatcher)")
	}
	err := s.opts.Reconciler.ReconcileNow(r.Context())
	s.audit(r, principalFrom(r.Context()).Name, "runners_refresh", "", nil)
	if err != nil {
		// A reconcile goes on past a failing scope or job, so what failed
		// is usually GitHub (a scope it refuses, a rate limit), and what
		// did not fail was still applied: 502 with the count, the details
		// in the log (they may name SQL or tokens' scopes).
		n := len(splitJoined(err))
		s.log.Warn().Err(err).Int("errors", n).Msg("runner refresh finished with errors")
		return &apiError{Status: http.StatusBadGateway, Code: "reconcile_failed",
			Msg: fmt.Sprintf("the reconcile finished with %d error(s); what succeeded was applied; details are in the server log", n)}
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "reconciled"})
	return nil
}

// splitJoined unwraps an errors.Join into its parts.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []error{err}
}
