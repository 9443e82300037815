package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/dispatcher"
	"github.com/ethpandaops/dispatchoor/events"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/hub"
	"github.com/ethpandaops/dispatchoor/leader"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/notify"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/server"
	"github.com/ethpandaops/dispatchoor/setup"
	"github.com/ethpandaops/dispatchoor/slash"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/ui"
)

// app is the whole product, every component constructed once in newApp and
// passed explicitly. run serves it until its context ends or setup mode
// stores new App credentials (then the caller builds it anew).
type app struct {
	cfg   *config.Config
	load  config.LoadOptions
	log   zerolog.Logger
	st    *store.Store
	lead  *leader.Leader
	bus   notify.Bus
	ev    *events.Router
	m     *metrics.Metrics
	q     *queue.Service
	ghc   *gh.Client
	disp  *dispatcher.Dispatcher
	slash *slash.Service
	srv   *server.Server

	reconfigured chan struct{}
	closeOnce    sync.Once
	draining     atomic.Bool
}

// errReconfigured ends run when setup mode has stored App credentials.
var errReconfigured = errors.New("app credentials configured")

func newApp(ctx context.Context, cfg *config.Config, load config.LoadOptions, log zerolog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, load: load, log: log, reconfigured: make(chan struct{})}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	// On SQLite this takes the database's lock file at once: a second
	// process on the same file stops here, before it migrates or serves.
	a.lead, err = leader.New(leader.Options{
		Driver: cfg.Database.Driver, DSN: cfg.Database.Postgres.ConnString(),
		SQLitePath: cfg.Database.SQLite.Path, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	if a.st, err = openStore(ctx, cfg.Database, true); err != nil {
		return nil, err
	}
	groups, templates := cfg.Groups()
	synced, err := a.st.SyncConfig(ctx, groups, templates)
	if err != nil {
		return nil, fmt.Errorf("sync groups and templates from config: %w", err)
	}
	log.Info().Str("component", "main").Interface("sync", synced).Msg("groups and templates synced from config")

	creds, err := setup.Resolve(ctx, setup.ResolveOptions{Store: a.st, ConfigHasApp: cfg.GitHub.App.Configured(), Getenv: os.Getenv})
	if err != nil {
		return nil, err
	}
	if creds.Source == setup.SourceDatabase {
		cfg.GitHub.App = creds.Credentials.ConfigApp()
	}

	a.m = metrics.New()
	observeFleet(a.m, a.st, a.lead.IsLeader)
	if a.bus, err = newBus(ctx, cfg, log); err != nil {
		return nil, err
	}
	// The router comes first: everything that announces changes takes it,
	// and everything that reacts subscribes to it once built
	// (docs/ARCHITECTURE.md, "Event flow").
	if a.ev, err = events.New(events.Options{Bus: a.bus, Jobs: a.st, Logger: log, Metrics: a.m}); err != nil {
		return nil, err
	}
	ev := a.ev
	wsHub := hub.New(hub.Options{Logger: log, Metrics: a.m, Store: a.st, JobView: server.JobView})
	ev.SubscribeDashboard(wsHub)

	if !creds.SetupMode() {
		if a.ghc, err = newGitHub(cfg, log, a.m); err != nil {
			return nil, err
		}
	}
	qopts := queue.Options{Store: a.st, Logger: log, Events: ev}
	if a.ghc != nil {
		qopts.Canceller = canceller{a.ghc}
	}
	if a.q, err = queue.New(qopts); err != nil {
		return nil, err
	}

	status := &dispatchStatus{Metrics: a.m, enabled: cfg.Dispatcher.Enabled, isLeader: a.lead.IsLeader}
	var hooks http.Handler
	if a.ghc != nil {
		a.disp, err = dispatcher.New(dispatcher.Options{
			Store: a.st, Queue: a.q, GitHub: a.ghc, Logger: log, Metrics: status, Runners: ev,
			Interval: cfg.Dispatcher.Interval, ReconcileInterval: cfg.Dispatcher.ReconcileInterval,
			StartTimeout: cfg.Dispatcher.StartTimeout, DispatchingGrace: cfg.Dispatcher.DispatchingGrace,
			OverdueAfter: cfg.Dispatcher.OverdueAfter, RedeliverInterval: cfg.Dispatcher.RedeliverInterval,
		})
		if err != nil {
			return nil, err
		}
		ev.SubscribeWaker(a.disp)
		var commands handlers.CommentHandler
		if cfg.SlashCommands.Enabled {
			a.slash, err = slash.New(slash.Options{
				Config: cfg.SlashCommands, UserRoleMapping: cfg.Auth.GitHub.UserRoleMapping,
				PublicURL: cfg.Server.PublicURL, GitHub: a.ghc, Queue: a.q, Store: a.st, Logger: log,
				PullRequests: slash.PullRequestsFrom(a.ghc),
			})
			if err != nil {
				return nil, err
			}
			ev.SubscribeJobs(a.slash)
			commands = a.slash
		}
		hooks, err = handlers.New(handlers.Options{
			Store: a.st, Queue: a.q, Logger: log, WebhookSecret: cfg.GitHub.App.WebhookSecret.Value(),
			Waker: ev, Reconciler: ev, Metrics: a.m, BotLogin: a.ghc.BotLogin,
			Slash: commands, Runners: ev, Installations: a.ghc,
		})
		if err != nil {
			return nil, err
		}
	}
	sopts := server.Options{
		Logger: log, Store: a.st, Version: buildVersion(), Config: cfg, Queue: a.q, Metrics: a.m,
		Hub: wsHub, Webhooks: hooks, Status: status, Draining: a.draining.Load,
		TemplateReloader: reloader{cfg: cfg, load: load, st: a.st},
	}
	if a.disp != nil {
		sopts.Reconciler = a.disp
	}
	if creds.Box != nil {
		sopts.TokenSealer = creds.Box
	}
	if fsys, ok := ui.FS(); ok {
		sopts.UI = ui.Handler(fsys)
	}
	// Webhooks are refused (503, GitHub retries nothing but the sweeper
	// redelivers) until an App exists to verify them.
	sopts.WebhooksReady = func() bool { return hooks != nil }
	if sopts.Setup, err = a.setupHandler(cfg, creds, log); err != nil {
		return nil, err
	}
	a.srv = server.New(sopts)
	return a, nil
}

// setupHandler builds setup mode's handler. It is served in every mode: its
// status route tells the dashboard whether an App exists. Whoever runs setup
// chooses the GitHub account every installation will trust, so it is for
// admins only (the server's own check, looked up when a request comes).
func (a *app) setupHandler(cfg *config.Config, creds setup.Resolved, log zerolog.Logger) (http.Handler, error) {
	return setup.New(setup.Options{
		Store: a.st, Box: creds.Box, ConfigHasApp: creds.Source == setup.SourceConfig,
		WebURL: cfg.GitHub.WebURL, APIURL: cfg.GitHub.APIURL, PublicURL: cfg.Server.PublicURL, Logger: log,
		Authorize:    func(r *http.Request) error { return a.srv.AuthorizeAdmin(r) },
		OnConfigured: func(setup.Credentials) { a.closeOnce.Do(func() { close(a.reconfigured) }) },
	})
}

func newBus(ctx context.Context, cfg *config.Config, log zerolog.Logger) (notify.Bus, error) {
	if cfg.Database.Driver != config.DriverPostgres {
		return notify.NewLocal(), nil
	}
	b, err := notify.New(ctx, notify.Options{DSN: cfg.Database.Postgres.ConnString(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("replica events: %w", err)
	}
	return b, nil
}

func newGitHub(cfg *config.Config, log zerolog.Logger, m *metrics.Metrics) (*gh.Client, error) {
	key := []byte(cfg.GitHub.App.PrivateKey.Value())
	if cfg.GitHub.App.PrivateKeyPath != "" {
		b, err := os.ReadFile(cfg.GitHub.App.PrivateKeyPath)
		if err != nil {
			return nil, fmt.Errorf("read github.app.private_key_path: %w", err)
		}
		key = b
	}
	c, err := gh.New(gh.Options{
		APIURL: cfg.GitHub.APIURL, AppID: cfg.GitHub.App.ID, PrivateKey: key, Logger: log,
		Observer: func(obs gh.Observation) {
			m.GitHubRequest(obs.Endpoint, obs.Status)
			if obs.InstallationID != 0 && obs.RateLimitRemaining >= 0 {
				m.RateLimitRemaining(obs.InstallationID, obs.RateLimitRemaining)
			}
		},
		Pace: gh.PaceLimits(cfg.GitHub.Pacing),
		PaceObserver: func(e gh.PaceEvent) {
			m.PacerRequest(e.Priority.String(), e.Waited, e.Blocked)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	m.PacerWaiting(func() map[string]int {
		out := map[string]int{}
		for p, n := range c.PaceWaiting() {
			out[p.String()] = n
		}
		return out
	})
	return c, nil
}

// canceller lets the queue cancel runs without knowing installations.
type canceller struct{ c *gh.Client }

func (c canceller) CancelRun(ctx context.Context, owner, repo string, runID int64) error {
	in, err := c.c.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return fmt.Errorf("cancel run %d of %s/%s: %w", runID, owner, repo, err)
	}
	return c.c.CancelRun(ctx, in.ID, owner, repo, runID)
}

// reloader re-reads the config's templates (inline, files, URLs) and syncs
// them, for POST /templates/reload.
type reloader struct {
	cfg  *config.Config
	load config.LoadOptions
	st   *store.Store
}

func (r reloader) ReloadTemplates(ctx context.Context) (store.SyncResult, error) {
	cfg, err := config.Load(ctx, r.cfg.File, r.load)
	if err != nil {
		return store.SyncResult{}, fmt.Errorf("reload %s: %w", r.cfg.File, err)
	}
	groups, templates := cfg.Groups()
	return r.st.SyncConfig(ctx, groups, templates)
}

// run serves on ln until ctx ends (nil) or setup stored credentials
// (errReconfigured).
//
// Shutdown is graceful: /health turns "draining" so load balancers send no
// new work; the leader stops claiming jobs, lets the dispatches it already
// started finish (or leaves them in dispatching for the next leader's
// reconciler), and only then releases its lock; HTTP (webhooks included)
// is served until that is done, then closed with the WebSockets.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	log := a.log.With().Str("component", "main").Logger()
	if err := a.srv.Start(ctx); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	httpSrv := server.NewHTTPServer(a.srv, a.cfg.Server.Timeouts)
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	leadCtx, stopLeading := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLeading()
	led := make(chan error, 1)
	go func() {
		led <- a.lead.Run(leadCtx, func(leaderCtx context.Context) {
			log.Info().Msg("leading: dispatcher and reconciler run here")
			a.leaderWork(leaderCtx)
		})
	}()
	log.Info().Str("listen", ln.Addr().String()).Str("public_url", a.cfg.Server.PublicURL).
		Bool("setup_mode", a.ghc == nil).Msg("serving")

	var result error
	select {
	case <-ctx.Done():
	case <-a.reconfigured:
		result = errReconfigured
	case err := <-served:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			result = fmt.Errorf("serve: %w", err)
		}
	case err := <-led:
		if err != nil && !errors.Is(err, context.Canceled) {
			result = fmt.Errorf("leader election: %w", err)
		}
		led <- nil
	}
	log.Info().Msg("draining")
	a.draining.Store(true)
	stopLeading()
	select {
	case <-led:
	case <-time.After(30 * time.Second):
		log.Warn().Msg("leader work did not stop within 30s; closing anyway")
	}
	if err := server.ShutdownHTTP(context.WithoutCancel(ctx), httpSrv, a.cfg.Server.Timeouts.Shutdown); err != nil && result == nil {
		result = err
	}
	log.Info().Msg("stopped")
	return result
}

// leaderWork is what only the leader does: dispatch, reconcile, clean up.
func (a *app) leaderWork(ctx context.Context) {
	var wg sync.WaitGroup
	if a.disp != nil && a.cfg.Dispatcher.Enabled {
		wg.Go(func() {
			if err := a.disp.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error().Err(err).Str("component", "main").Msg("dispatcher stopped")
			}
		})
	}
	wg.Go(func() { a.cleanupLoop(ctx) })
	wg.Wait()
}

// cleanupLoop applies history retention and drops old delivery records.
func (a *app) cleanupLoop(ctx context.Context) {
	every := a.cfg.History.CleanupInterval
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if days := a.cfg.History.RetentionDays; days > 0 {
			retention := time.Duration(days) * 24 * time.Hour
			if _, err := a.q.Cleanup(ctx, retention); err != nil && ctx.Err() == nil {
				a.log.Warn().Err(err).Str("component", "cleanup").Msg("history retention")
			}
		}
		// The other tables that grow with traffic are bounded whatever the
		// history retention (docs/RELIABILITY.md, "Bounded tables").
		r := store.DefaultRetention
		r.Audit = time.Duration(a.cfg.History.AuditRetentionDays) * 24 * time.Hour
		if n, err := a.st.Prune(ctx, r); err != nil && ctx.Err() == nil {
			a.log.Warn().Err(err).Str("component", "cleanup").Msg("prune deliveries, GitHub jobs and audit log")
		} else if n != (store.Pruned{}) {
			a.log.Info().Str("component", "cleanup").Interface("pruned", n).Msg("pruned old rows")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close releases everything newApp built, in reverse order.
func (a *app) close() {
	if a.srv != nil {
		_ = a.srv.Close()
	}
	if a.slash != nil {
		a.slash.Close()
	}
	if a.ev != nil {
		_ = a.ev.Close()
	}
	if c, ok := a.bus.(interface{ Close() error }); ok && c != nil {
		_ = c.Close()
	}
	if a.lead != nil {
		_ = a.lead.Close()
	}
	if a.st != nil {
		_ = a.st.Close()
	}
}
