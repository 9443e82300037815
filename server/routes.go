package server

import (
	"context"
	"net/http"
)

// access is who may call a route.
type access int

const (
	// accessUnset is the zero value so that a route added without a
	// decision fails closed (treated as admin) and fails the access test.
	accessUnset  access = iota
	accessPublic        // anyone, no session
	accessUser          // any logged-in user or token (readonly or admin)
	accessAdmin         // admin role only
)

func (a access) String() string {
	return [...]string{"unset", "public", "user", "admin"}[a]
}

// limitClass picks the per-client rate limit of a route (config
// server.rate_limit).
type limitClass int

const (
	limitPublic limitClass = iota
	limitAuth
	limitAuthenticated
)

type route struct {
	Method string
	Path   string
	Access access
	Limit  limitClass
	h      func(w http.ResponseWriter, r *http.Request) error
}

const v1 = "/api/v1"

// routeTable is the whole API (docs/ARCHITECTURE.md, HTTP API and auth). The access matrix test and the
// OpenAPI test both walk it, so a route added here without a decision or
// without documentation fails them.
func (s *Server) routeTable() []route {
	pub := func(m, p string, h func(http.ResponseWriter, *http.Request) error) route {
		return route{Method: m, Path: p, Access: accessPublic, Limit: limitPublic, h: h}
	}
	auth := func(m, p string, h func(http.ResponseWriter, *http.Request) error) route {
		return route{Method: m, Path: v1 + p, Access: accessPublic, Limit: limitAuth, h: h}
	}
	user := func(m, p string, h func(http.ResponseWriter, *http.Request) error) route {
		return route{Method: m, Path: v1 + p, Access: accessUser, Limit: limitAuthenticated, h: h}
	}
	admin := func(m, p string, h func(http.ResponseWriter, *http.Request) error) route {
		return route{Method: m, Path: v1 + p, Access: accessAdmin, Limit: limitAuthenticated, h: h}
	}
	return []route{
		pub("GET", "/health", s.health),
		pub("GET", "/healthz", s.healthz),
		pub("GET", "/readyz", s.readyz),
		pub("GET", "/metrics", s.serveMetrics),
		pub("GET", v1+"/openapi.yaml", s.serveOpenAPI),

		// Setup mode (setup.Handler): public here because the handler
		// does its own admin check (AuthorizeAdmin), and status must answer
		// anyone so the UI can tell that setup is needed.
		{Method: "GET", Path: "/setup", Access: accessPublic, Limit: limitAuth, h: s.serveSetup},
		auth("GET", "/setup/status", s.serveSetup),
		auth("GET", "/setup/manifest", s.serveSetup),
		auth("GET", "/setup/callback", s.serveSetup),

		// Public rate limit, not auth: it is read on every login page view
		// and reveals nothing an attacker could use.
		pub("GET", v1+"/auth/providers", s.authProviders),
		auth("POST", "/auth/login", s.login),
		auth("GET", "/auth/github", s.githubStart),
		auth("GET", "/auth/github/callback", s.githubCallback),
		user("POST", "/auth/logout", s.logout),
		user("GET", "/auth/me", s.me),

		user("GET", "/groups", s.listGroups),
		user("GET", "/groups/{id}", s.getGroup),
		user("GET", "/groups/{id}/templates", s.listTemplates),
		user("GET", "/templates/{id}", s.getTemplate),
		admin("POST", "/groups/{id}/pause", s.pauseGroup),
		admin("POST", "/groups/{id}/unpause", s.unpauseGroup),

		user("GET", "/groups/{id}/queue", s.listQueue),
		admin("POST", "/groups/{id}/queue", s.enqueue),
		admin("PUT", "/groups/{id}/queue/reorder", s.reorder),

		user("GET", "/jobs/{id}", s.getJob),
		admin("PUT", "/jobs/{id}", s.updateJob),
		admin("DELETE", "/jobs/{id}", s.deleteJob),
		admin("POST", "/jobs/{id}/pause", s.pauseJob),
		admin("POST", "/jobs/{id}/unpause", s.unpauseJob),
		admin("POST", "/jobs/{id}/cancel", s.cancelJob),
		admin("POST", "/jobs/{id}/disable-requeue", s.disableRequeue),
		admin("PUT", "/jobs/{id}/auto-requeue", s.setAutoRequeue),
		admin("POST", "/jobs/bulk", s.bulkJobs),

		user("GET", "/groups/{id}/history", s.history),
		user("GET", "/groups/{id}/history/stats", s.historyStats),

		user("GET", "/runners", s.listRunners),
		user("GET", "/groups/{id}/runners", s.groupRunners),
		admin("POST", "/runners/refresh", s.refreshRunners),
		admin("POST", "/templates/reload", s.reloadTemplates),

		user("GET", "/status", s.status),
		user("GET", "/ws", s.serveWS),
		admin("GET", "/audit", s.listAudit),
		admin("GET", "/tokens", s.listTokens),
		admin("POST", "/tokens", s.createToken),
		admin("DELETE", "/tokens/{id}", s.revokeToken),
	}
}

type ctxKey int

const principalKey ctxKey = iota

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// principalFrom is the caller of a user or admin route; never nil there.
func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey).(*principal)
	return p
}

// wrap applies, in order: the rate limit, authentication, the CSRF check for
// cookie sessions, the role, then the handler; errors become JSON.
func (s *Server) wrap(rt route) http.Handler {
	pattern := rt.Method + " " + rt.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorderFrom(w)
		if rec != nil {
			rec.route = pattern
		}
		err := s.serveRoute(w, r, rt, rec)
		if err != nil {
			ae, known := toAPIError(err)
			if !known {
				s.log.Error().Err(err).Str("route", pattern).Msg("request failed")
			}
			writeError(w, ae)
		}
		if rec != nil {
			s.metrics.HTTPRequest(pattern, rec.status)
		}
	})
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt route, rec *statusRecorder) error {
	if err := s.limits.allow(rt.Limit, s.clientIP.of(r), w); err != nil {
		return err
	}
	if rt.Access == accessPublic {
		return rt.h(w, r)
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if rec != nil {
		rec.user = p.Name
	}
	// Every use of a token is audited, refused ones included.
	if p.Kind == kindToken {
		s.auditTokenUse(r, p)
	}
	s.touchSession(r, p)
	if p.Kind == kindSession && !safeMethod(r.Method) && r.Header.Get(csrfHeader) != csrfValue {
		return errCSRF
	}
	if (rt.Access == accessAdmin || rt.Access == accessUnset) && p.Role != roleAdmin {
		return errForbidden
	}
	return rt.h(w, r.WithContext(withPrincipal(r.Context(), p)))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
