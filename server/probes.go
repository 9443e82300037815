package server

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// probeTimeout bounds the database checks of /readyz: a kubelet gives a probe
// one second by default, and a probe that hangs is worse than one that fails.
const probeTimeout = 2 * time.Second

// Probe is the body of /healthz and /readyz.
type Probe struct {
	Status  string   `json:"status"`
	Version string   `json:"version"`
	Reasons []string `json:"reasons,omitempty"`
}

// healthz is liveness: it answers 200 whenever the process serves HTTP and
// touches nothing else, so a slow database never gets a healthy pod killed
// (docs/ARCHITECTURE.md, "HTTP API and auth").
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, Probe{Status: "ok", Version: s.opts.Version})
	return nil
}

// readyz is readiness: the database answers, its schema is the one this
// binary embeds (a replica of a newer release must not serve an old schema)
// and the process is not draining. Every failed check is named, so the
// operator reading a 503 knows which one.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	reasons := s.readinessProblems(r.Context())
	if len(reasons) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, Probe{Status: "not ready", Version: s.opts.Version, Reasons: reasons})
		return nil
	}
	writeJSON(w, http.StatusOK, Probe{Status: "ok", Version: s.opts.Version})
	return nil
}

func (s *Server) readinessProblems(ctx context.Context) []string {
	var reasons []string
	if s.opts.Draining != nil && s.opts.Draining() {
		reasons = append(reasons, "draining")
	}
	if s.store == nil {
		return append(reasons, "no database")
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn().Err(err).Msg("readyz: database unreachable")
		return append(reasons, "database unreachable")
	}
	current, latest, err := s.store.SchemaVersion(ctx)
	switch {
	case err != nil:
		s.log.Warn().Err(err).Msg("readyz: schema version unreadable")
		reasons = append(reasons, "schema version unreadable")
	case current != latest:
		reasons = append(reasons, fmt.Sprintf("migrations not applied: schema version %d, this binary needs %d", current, latest))
	}
	return reasons
}
