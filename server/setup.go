package server

import (
	"errors"
	"net/http"
)

// serveSetup hands the setup routes to Options.Setup (setup.Handler), which
// answers them itself, admin check included.
func (s *Server) serveSetup(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Setup == nil {
		return &apiError{Status: http.StatusNotFound, Code: "not_enabled", Msg: "setup mode is not available on this server"}
	}
	s.opts.Setup.ServeHTTP(w, r)
	return nil
}

// errSetupRequired answers webhooks while no App is configured: there is no
// webhook secret to verify a delivery against, so nothing can be accepted.
var errSetupRequired = &apiError{
	Status: http.StatusServiceUnavailable, Code: "setup_required",
	Msg: "no GitHub App is configured yet (setup mode); webhooks are accepted once setup at /setup completes",
}

func (s *Server) serveWebhooks(w http.ResponseWriter, r *http.Request) {
	if s.opts.Webhooks == nil || (s.opts.WebhooksReady != nil && !s.opts.WebhooksReady()) {
		w.Header().Set("Retry-After", "60")
		writeError(w, errSetupRequired)
		return
	}
	// An address that keeps failing the signature is refused before its
	// body is read: only a failure is counted, so GitHub's own deliveries
	// (which all verify) are never limited unless they share an address
	// with the attacker (configure trusted_proxies behind a proxy).
	client := s.clientIP.of(r)
	if err := s.hookFailures.check(client, w); err != nil {
		s.log.Warn().Str("client", client).Msg("webhook refused: too many failed signatures from this address")
		writeError(w, err)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	s.opts.Webhooks.ServeHTTP(rec, r)
	if rec.status == http.StatusUnauthorized {
		s.hookFailures.fail(client)
	}
}

// AuthorizeAdmin returns nil when r comes from an admin: a session cookie
// or an API token (Authorization: Bearer) with the admin role. It has the
// shape of setup.Options.Authorize, which the setup routes call because the
// router treats them as public (status must answer anyone).
//
// Token use is audited and the session's last use recorded, as on any
// authenticated route. Safe methods only need no CSRF check: setup routes
// are all GET.
func (s *Server) AuthorizeAdmin(r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		if _, known := toAPIError(err); !known {
			// The message reaches the browser; keep database detail out.
			s.log.Error().Err(err).Str("path", r.URL.Path).Msg("authorize admin")
			return errors.New("the session could not be checked; try again")
		}
		return err
	}
	switch p.Kind {
	case kindToken:
		s.auditTokenUse(r, p)
	case kindSession:
		s.touchSession(r, p)
	}
	if p.Role != roleAdmin {
		return errForbidden
	}
	return nil
}
