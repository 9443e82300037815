package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/hub"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// Reconciler runs a reconcile of every runner scope now (POST /runners/refresh).
type Reconciler interface {
	ReconcileNow(ctx context.Context) error
}

// TemplateReloader re-reads templates from the config's files and URLs and
// syncs them into the store (POST /templates/reload).
type TemplateReloader interface {
	ReloadTemplates(ctx context.Context) (store.SyncResult, error)
}

// StatusSource reports what only the dispatcher knows, for GET /status.
type StatusSource interface {
	DispatcherStatus() DispatcherStatus
}

// DispatcherStatus is the dispatcher's part of /status.
type DispatcherStatus struct {
	Enabled   bool       `json:"enabled"`
	Leader    bool       `json:"leader"`
	LastCycle *time.Time `json:"last_cycle,omitempty"`
}

// RateLimitSource reports each installation's remaining GitHub API budget
// as last seen on a response (installation id → remaining).
// *metrics.Metrics implements it.
type RateLimitSource interface {
	RateLimits() map[int64]int
}

// Options are the server's dependencies. Store is required; everything else
// has a safe zero value (a route whose dependency is missing answers 503).
type Options struct {
	Logger  zerolog.Logger
	Store   *store.Store
	Version string
	// Config supplies server, auth and github settings; nil means
	// config.Default().
	Config *config.Config
	// Queue is the job service behind every queue and job route.
	Queue   *queue.Service
	Metrics *metrics.Metrics
	// Webhooks is mounted at /api/github/hook when set (or when
	// WebhooksReady is).
	Webhooks http.Handler
	// WebhooksReady, when set, gates /api/github/hook: while it reports
	// false (setup mode: no App, so no webhook secret to verify against) the
	// hook answers 503 with a JSON error and Webhooks is not called. GitHub
	// records the failed delivery, which the redelivery sweeper picks up
	// once the App is configured.
	WebhooksReady func() bool
	// Setup is the App-manifest setup handler (setup.Handler), mounted at
	// GET /setup and GET /api/v1/setup/{status,manifest,callback}. Those
	// routes are public here, under the auth rate limit: the handler guards
	// itself through its Authorize option, which cmd sets to AuthorizeAdmin.
	// Nil answers them 404.
	Setup            http.Handler
	UI               http.Handler
	Reconciler       Reconciler
	TemplateReloader TemplateReloader
	Status           StatusSource
	// RateLimits defaults to Metrics when nil.
	RateLimits RateLimitSource
	// BcryptCost hashes plaintext passwords from the config; 0 is
	// bcrypt.DefaultCost. Tests lower it.
	BcryptCost int
	// Hub is the WebSocket hub (package hub), which cmd subscribes to the
	// events router; nil builds one without a store.
	Hub WebSocketHub
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Draining reports a graceful shutdown in progress: /health answers
	// 503 "draining" while it returns true.
	Draining func() bool
	// TokenSealer seals the OAuth tokens of GitHub-login users in the
	// database (secretbox keyed by DISPATCHOOR_SECRET_KEY). Start refuses
	// GitHub login without it: an unsealed token would sit in the database,
	// and a token kept only in memory could not be re-checked after a
	// restart or by another replica.
	TokenSealer TokenSealer
	// WSRecheckInterval is how often the credentials behind open
	// WebSockets are re-checked; 0 means wsRecheckInterval (1s).
	WSRecheckInterval time.Duration
}

// Server routes HTTP requests. Build it with New, call Start before serving
// and Close when done.
type Server struct {
	opts      Options
	cfg       *config.Config
	log       zerolog.Logger
	store     *store.Store
	queue     *queue.Service
	metrics   *metrics.Metrics
	mux       *http.ServeMux
	handler   http.Handler
	routes    []route
	publicURL *url.URL
	users     *basicUsers
	oauth     *githubLogin
	limits    *rateLimiters
	// hookFailures refuses addresses that keep failing the webhook
	// signature before their bodies are read.
	hookFailures *failureLimit
	clientIP     clientAddr
	hub          WebSocketHub
	touches      *sessionTouches
	members      *githubMembers
	now          func() time.Time
	started      atomic.Bool
	closed       chan struct{}
	closeOnce    sync.Once
}

// New builds the router. It hashes plaintext passwords from the config (so
// they are never compared in plaintext) and the WebSocket hub; it does no
// database I/O — Start does.
func New(opts Options) *Server {
	cfg := opts.Config
	if cfg == nil {
		cfg = config.Default()
	}
	s := &Server{
		opts: opts, cfg: cfg, store: opts.Store, queue: opts.Queue, metrics: opts.Metrics,
		log: opts.Logger.With().Str("component", "server").Logger(),
		mux: http.NewServeMux(), now: opts.Now, closed: make(chan struct{}),
		touches: newSessionTouches(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if u, err := url.Parse(strings.TrimRight(cfg.Server.PublicURL, "/")); err == nil && u.Scheme != "" && u.Host != "" {
		s.publicURL = u
	} else {
		s.log.Warn().Str("public_url", cfg.Server.PublicURL).Msg("public_url is not an absolute URL; OAuth redirects and WebSocket origin checks are limited")
	}
	s.users = newBasicUsers(cfg.Auth.Basic, opts.BcryptCost, s.log)
	s.oauth = newGitHubLogin(cfg)
	if s.oauth.enabled && opts.TokenSealer != nil {
		s.members = &githubMembers{st: s.store, box: opts.TokenSealer}
	}
	s.limits = newRateLimiters(cfg.Server.RateLimit, s.now)
	s.hookFailures = &failureLimit{limit: cfg.Server.RateLimit.WebhookFailures.RequestsPerMinute, now: s.now}
	s.clientIP = clientAddr{trusted: cfg.Server.TrustedProxyPrefixes()}
	s.hub = opts.Hub
	if s.hub == nil {
		s.hub = hub.New(hub.Options{Logger: opts.Logger, Metrics: s.metrics, Store: s.store, JobView: JobView})
	}
	s.hub.SetOrigins(s.allowedOrigins())
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	if opts.Webhooks != nil || opts.WebhooksReady != nil {
		s.mux.HandleFunc("POST /api/github/hook", s.serveWebhooks)
	}
	if opts.UI != nil {
		s.mux.Handle("GET /", opts.UI)
	}
	s.handler = s.logRequests(s.cors(http.HandlerFunc(s.dispatch)))
	return s
}

// Start prepares the database side: it makes the enabled basic users exactly
// the configured ones, so a user removed from the config can no longer log in
// and loses its sessions. Logins are refused until Start succeeded.
func (s *Server) Start(ctx context.Context) error {
	if s.store == nil {
		return errors.New("server: a store is required")
	}
	if s.oauth.enabled && s.members == nil {
		return errors.New("auth.github is enabled but DISPATCHOOR_SECRET_KEY is not set: GitHub users' tokens are kept sealed with it so that any replica can re-check their membership (docs/API.md, \"GitHub membership re-check\"); make a key with `openssl rand -base64 32`")
	}
	res, err := s.store.SyncBasicUsers(ctx, s.users.storeUsers())
	if err != nil {
		return fmt.Errorf("sync basic users from config: %w", err)
	}
	if len(res.Disabled) > 0 {
		s.log.Info().Strs("users", res.Disabled).Msg("basic users removed from the config were disabled and their sessions ended")
	}
	// Queue and fleet gauges start from the database, not from zero, so a
	// restart does not report an empty queue until the next change.
	s.hub.RefreshGauges(ctx)
	s.started.Store(true)
	go s.every(ctx, sessionCleanupInterval, s.cleanSessions)
	interval := s.opts.WSRecheckInterval
	if interval <= 0 {
		interval = wsRecheckInterval
	}
	go s.every(ctx, interval, s.recheckSockets)
	if s.oauth.enabled {
		recheck := s.cfg.Auth.GitHub.RecheckInterval
		if recheck <= 0 || recheck > config.MaxGitHubRecheckInterval {
			recheck = config.MaxGitHubRecheckInterval
		}
		// Ticking at half the interval and claiming users last checked at
		// least half an interval ago re-checks each user at least once per
		// interval, however many replicas share the work.
		half := recheck / 2
		go s.every(ctx, half, func(ctx context.Context) { s.recheckGitHubMembers(ctx, half) })
	}
	return nil
}

// sessionCleanupInterval paces the removal of expired sessions; they are
// refused on use anyway, this only keeps the table small.
const sessionCleanupInterval = time.Hour

func (s *Server) cleanSessions(ctx context.Context) {
	s.touches.prune(s.now())
	if n, err := s.store.DeleteExpiredSessions(ctx); err != nil {
		s.log.Warn().Err(err).Msg("delete expired sessions")
	} else if n > 0 {
		s.log.Debug().Int64("deleted", n).Msg("expired sessions deleted")
	}
}

// every runs fn each interval until ctx ends or the server closes.
func (s *Server) every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closed:
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// Close disconnects every WebSocket client, stops the hub and the session
// cleanup.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return s.hub.Close()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// dispatch answers unknown API routes in JSON; the mux's own 404 and 405 are
// plain text, which API clients cannot parse.
// The UI's catch-all "GET /" must not answer for the API either.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern != "" && pattern != "GET /" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); strings.HasPrefix(p, m+" /api/") {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Msg: r.Method + " is not allowed on " + r.URL.Path + "; use " + strings.Join(allow, ", ")})
		return
	}
	writeError(w, &apiError{Status: http.StatusNotFound, Code: "not_found", Msg: "no such API route: " + r.Method + " " + r.URL.Path})
}

// health answers 200 when the database answers, 503 otherwise.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	status, code := "ok", http.StatusOK
	if s.opts.Draining != nil && s.opts.Draining() {
		// Load balancers stop sending new work; requests in flight and
		// webhooks still being delivered here are served until the end.
		status, code = "draining", http.StatusServiceUnavailable
	} else if s.store == nil {
		status, code = "no database", http.StatusServiceUnavailable
	} else if err := s.store.Ping(r.Context()); err != nil {
		s.log.Warn().Err(err).Msg("health: database unreachable")
		status, code = "database unreachable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]string{"status": status, "version": s.opts.Version})
	return nil
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.metrics == nil {
		return errUnavailable("metrics")
	}
	s.metrics.Handler().ServeHTTP(w, r)
	return nil
}
