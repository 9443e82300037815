package server

import (
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
	if err := s.opts.Reconciler.ReconcileNow(r.Context()); err != nil {
		return err
	}
	s.audit(r, principalFrom(r.Context()).Name, "runners_refresh", "", nil)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "reconcile requested"})
	return nil
}
