package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// GitHub is what the dispatcher and the reconciler need from GitHub.
// *gh.Client implements it.
type GitHub interface {
	InstallationForRepo(ctx context.Context, owner, repo string) (gh.Installation, error)
	InstallationForOwner(ctx context.Context, owner string) (gh.Installation, error)
	// ForgetInstallationFor drops the cached installation of owner and
	// owner/repo (repo may be empty), so the next lookup asks GitHub.
	ForgetInstallationFor(owner, repo string)
	// BotLogin is the App's bot login, the actor of the runs it dispatches.
	BotLogin(ctx context.Context) (string, error)
	Dispatch(ctx context.Context, req gh.DispatchRequest) (gh.DispatchResult, error)
	ListRunners(ctx context.Context, installationID int64, scope string) ([]core.Runner, error)
	GetRun(ctx context.Context, installationID int64, owner, repo string, runID int64) (gh.Run, error)
	ListRuns(ctx context.Context, installationID int64, owner, repo string, f gh.RunFilter) ([]gh.Run, error)
	CancelRun(ctx context.Context, installationID int64, owner, repo string, runID int64) error
	ListFailedDeliveries(ctx context.Context, since time.Time) ([]gh.Delivery, error)
	Redeliver(ctx context.Context, deliveryID int64) error
}

var _ GitHub = (*gh.Client)(nil)

// Metrics receives what the dispatcher does; the server implements it with
// Prometheus collectors. Calls must return quickly.
type Metrics interface {
	// CycleDone: one dispatch pass finished, after d.
	CycleDone(d time.Duration)
	// Dispatched: one dispatch attempt of group ended with outcome
	// (see the Outcome* constants).
	Dispatched(group, outcome string)
	// DispatchLatency: from the wake-up that revealed capacity to the
	// dispatch request answered by GitHub.
	DispatchLatency(group string, d time.Duration)
	// StartTimedOut: a triggered run of group did not start within
	// StartTimeout.
	StartTimedOut(group string)
	// Reconciled: one scope's runners were re-listed (err nil) or not.
	Reconciled(scope string, err error)
	// Redelivered: a failed webhook delivery of event was sent again.
	Redelivered(event string)
	// LabelMismatch: a run of group's template asks for runs-on labels no
	// runner of the group has (found when its GitHub jobs were linked).
	LabelMismatch(group, template string)
}

// Store is what the dispatcher reads from the database, and the GitHub-job
// and runner bookkeeping it writes; *store.Store implements it. Our jobs'
// state is never written here: every change of it goes through the queue
// service (docs/ARCHITECTURE.md, "Job states").
type Store interface {
	ListGroups(ctx context.Context) ([]core.Group, error)
	ListTemplates(ctx context.Context, groupID string) ([]core.Template, error)
	GetJob(ctx context.Context, id int64) (core.Job, error)
	FindJobByRunID(ctx context.Context, runID int64) (core.Job, error)
	ListJobsByStatus(ctx context.Context, statuses ...core.JobStatus) ([]core.Job, error)
	ActiveJobs(ctx context.Context) ([]store.ActiveJob, error)
	DispatchableCounts(ctx context.Context, groupIDs []string, limit int) (map[string]int, error)
	OnlineRunners(ctx context.Context) ([]core.Runner, error)
	ListRunners(ctx context.Context, f store.RunnerFilter) ([]store.RunnerRecord, error)
	ReplaceScopeRunners(ctx context.Context, l store.ScopeListing) (store.RunnerChanges, error)
	GetGitHubJob(ctx context.Context, id int64) (store.GitHubJob, error)
	QueuedGitHubJobs(ctx context.Context) ([]store.GitHubJob, error)
	GitHubJobsOfRun(ctx context.Context, runID int64) ([]store.GitHubJob, error)
	// LinkGitHubRunToJob and CompleteQueuedJobsOfRun keep GitHub's jobs
	// (demand and runner holdings), not ours.
	LinkGitHubRunToJob(ctx context.Context, runID, jobID int64) (int64, error)
	CompleteQueuedJobsOfRun(ctx context.Context, runID int64, conclusion string) (int64, error)
}

var _ Store = (*store.Store)(nil)

// RunnerEvents hears about every runner a reconcile added, updated or
// removed, after the listing committed, for live runner_status updates (the
// server's WebSocket hub implements it). A removed runner is sent as it was
// last stored, with Status offline and not busy: GitHub no longer lists it,
// and a dashboard shows it gone rather than idle.
type RunnerEvents interface {
	RunnerChanged(r core.Runner)
}

// Outcomes of one dispatch attempt, as passed to Metrics.Dispatched.
const (
	OutcomeTriggered = "triggered" // GitHub accepted it
	OutcomeAmbiguous = "ambiguous" // a 5xx or broken connection: the run may exist
	OutcomeRetry     = "retry"     // transient error: back to pending with back-off
	OutcomeFailed    = "failed"    // permanent error: the job failed
	OutcomeWaiting   = "waiting"   // no usable installation: back to pending until one appears
)

// Kill points, in the order a dispatch passes them (see Options.KillPoint).
const (
	KillAfterClaim    = "after-claim"
	KillAfterDispatch = "after-dispatch"
	KillAfterTrigger  = "after-trigger"
)

// JobIDInput is the workflow input that carries the job id. It is sent only
// when the job's inputs already name it (the template declares it, with any
// value): GitHub refuses a dispatch with an input the workflow does not
// declare, and the API does not tell us which inputs a workflow declares.
// A workflow with `run-name: ${{ inputs.dispatchoor_job_id }}` shows it as
// the run's display_title, which makes correlating a run exact.
const JobIDInput = "dispatchoor_job_id"

// ErrKilled is returned by Pass when Options.KillPoint stopped a dispatch.
var ErrKilled = errors.New("dispatcher: killed at a kill point")

// Options configure a Dispatcher. Store, Queue and GitHub are required.
//
// Defaults have one source each. The durations the configuration file
// exposes (Interval, ReconcileInterval, StartTimeout, DispatchingGrace,
// OverdueAfter, RedeliverInterval) are defaulted by package config (its
// dispatcher block) and required here: New refuses a zero one, so a caller
// cannot silently run on a second set of defaults. The knobs the file does
// not expose are defaulted by New, as documented on each.
type Options struct {
	Store  Store
	Queue  *queue.Service
	GitHub GitHub
	Logger zerolog.Logger
	// Interval is the safety-net tick between passes (dispatcher.interval).
	Interval time.Duration
	// ReconcileInterval is the period of full reconciles
	// (dispatcher.reconcile_interval).
	ReconcileInterval time.Duration
	// StartTimeout flags a triggered run that has not started
	// (dispatcher.start_timeout).
	StartTimeout time.Duration
	// DispatchingGrace is how long a job may stay in dispatching before the
	// reconciler resolves it (adopts its run or returns it to pending)
	// (dispatcher.dispatching_grace). It must exceed the longest dispatch
	// request. A job carrying JobIDInput adopts its titled run sooner, from
	// CorrelateDelay.
	DispatchingGrace time.Duration
	// OverdueAfter is how old a triggered or running job's last change must
	// be before the reconciler re-reads its run (dispatcher.overdue_after).
	// ReconcileNow re-reads at once the run of a job no listed runner is
	// busy on.
	OverdueAfter time.Duration
	// CorrelateDelay is how soon after a dispatch without run details the
	// runs are listed to find it; default 5s.
	CorrelateDelay time.Duration
	// TransientBackoff is the least back-off after a transient error;
	// GitHub's Retry-After wins when longer. Default 30s.
	TransientBackoff time.Duration
	// RedeliverWindow is how far back failed webhook deliveries are
	// redelivered; default 1h, negative disables the sweeper.
	RedeliverWindow time.Duration
	// RedeliverInterval is the longest time between two scans for failed
	// deliveries (dispatcher.redeliver_interval). Run scans on a timer of
	// its own, so a long ReconcileInterval does not stretch it. A reconcile
	// scans sooner, at most once per reconcile, when it found what a lost
	// webhook leaves behind (a runner whose busy state the listing
	// contradicts, a run that moved on unannounced) or when the last scan
	// left deliveries for later, and the first reconcile after start always
	// scans.
	RedeliverInterval time.Duration
	// MaxRedeliveries caps the failed deliveries redelivered by one scan;
	// default 50 (with the default reconcile_interval, at most 600 of the
	// App's 5,000 requests an hour).
	MaxRedeliveries int
	// MaxParallel bounds concurrent dispatch requests in a pass; default 8.
	MaxParallel int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Metrics is optional.
	Metrics Metrics
	// Runners, optional, hears each runner change a reconcile made, once.
	Runners RunnerEvents
	// KillPoint, for tests, is asked at each kill point (KillAfterClaim,
	// KillAfterDispatch, KillAfterTrigger); true stops that dispatch right
	// there, as if the process died, and Pass returns ErrKilled.
	KillPoint func(point string) bool
}

// Dispatcher runs dispatch passes and reconciles. Run it only while holding
// leadership; Wake, ScheduleScope and ReconcileNow are safe to call from any
// goroutine at any time.
type Dispatcher struct {
	opts    Options
	store   Store
	queue   *queue.Service
	gh      GitHub
	log     zerolog.Logger
	metrics Metrics
	runners RunnerEvents
	now     func() time.Time

	// sem bounds concurrent dispatch requests across passes: Run starts a
	// pass's requests and goes back to waiting for wake-ups, so passes
	// overlap while GitHub answers.
	sem chan struct{}
	// inflight counts dispatches Run started and has not seen end.
	inflight sync.WaitGroup

	wake   chan struct{}
	repair chan struct{}
	scoped chan struct{}

	mu         sync.Mutex
	wokeAt     time.Time // earliest wake-up not yet served by a pass
	wakeReason string
	scopeDue   map[string][]time.Time // pending ScheduleScope times per scope
	dueScopes  map[string]bool        // scopes whose time has come
	flagged    map[int64]bool         // jobs already flagged for start_timeout
	redeliv    map[string]bool        // delivery GUIDs already redelivered
	sweep      sweepState             // when and from where to scan deliveries
	ghJobLinks map[int64]int64        // GitHub job id -> our job id, for busy runners

	passMu      sync.Mutex // one snapshot-and-claim at a time
	reconcileMu sync.Mutex // one job reconcile at a time
}

// New validates opts and builds a Dispatcher.
func New(opts Options) (*Dispatcher, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("dispatcher: a store is required")
	case opts.Queue == nil:
		return nil, errors.New("dispatcher: a queue service is required")
	case opts.GitHub == nil:
		return nil, errors.New("dispatcher: a GitHub client is required")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"Interval", opts.Interval}, {"ReconcileInterval", opts.ReconcileInterval},
		{"StartTimeout", opts.StartTimeout}, {"DispatchingGrace", opts.DispatchingGrace},
		{"OverdueAfter", opts.OverdueAfter}, {"RedeliverInterval", opts.RedeliverInterval},
	} {
		if d.v <= 0 {
			return nil, fmt.Errorf("dispatcher: %s must be positive, got %s (config supplies the defaults)", d.name, d.v)
		}
	}
	if opts.CorrelateDelay <= 0 {
		opts.CorrelateDelay = 5 * time.Second
	}
	if opts.TransientBackoff <= 0 {
		opts.TransientBackoff = 30 * time.Second
	}
	if opts.MaxRedeliveries <= 0 {
		opts.MaxRedeliveries = 50
	}
	if opts.RedeliverWindow == 0 {
		opts.RedeliverWindow = time.Hour
	}
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.Runners == nil {
		opts.Runners = nopEvents{}
	}
	return &Dispatcher{
		opts: opts, store: opts.Store, queue: opts.Queue, gh: opts.GitHub, metrics: opts.Metrics, now: opts.Now,
		runners: opts.Runners, sem: make(chan struct{}, opts.MaxParallel),
		log:    opts.Logger.With().Str("component", "dispatcher").Logger(),
		wake:   make(chan struct{}, 1),
		repair: make(chan struct{}, 1),
		scoped: make(chan struct{}, 1),

		scopeDue:  map[string][]time.Time{},
		dueScopes: map[string]bool{},
		flagged:   map[int64]bool{},
		redeliv:   map[string]bool{},

		ghJobLinks: map[int64]int64{},
	}, nil
}

// Wake asks for a dispatch pass as soon as possible. It never blocks: a
// burst of wake-ups while a pass is pending becomes that one pass, and a
// wake-up during a pass causes exactly one more.
func (d *Dispatcher) Wake(reason string) {
	d.mu.Lock()
	if d.wokeAt.IsZero() {
		d.wokeAt, d.wakeReason = d.now(), reason
	}
	d.mu.Unlock()
	signal(d.wake)
}

// takeWake returns and clears the pending wake-up.
func (d *Dispatcher) takeWake() (time.Time, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, why := d.wokeAt, d.wakeReason
	d.wokeAt, d.wakeReason = time.Time{}, ""
	return at, why
}

// ScheduleScope asks for the runners of scope ("org:NAME" or
// "repo:OWNER/NAME") to be re-listed after delay. Requests for about the
// same moment are merged (a burst of ephemeral runners finishing costs one
// listing), while one for a clearly later moment is kept ("now, and once
// more a little later").
func (d *Dispatcher) ScheduleScope(scope string, delay time.Duration) {
	if scope == "" {
		return
	}
	delay = max(delay, 0)
	window := max(10*time.Millisecond, delay/4)
	due := d.now().Add(delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.scopeDue[scope] {
		if t.Sub(due).Abs() <= window {
			return
		}
	}
	d.scopeDue[scope] = append(d.scopeDue[scope], due)
	time.AfterFunc(delay, func() {
		d.mu.Lock()
		ts := d.scopeDue[scope]
		for i, t := range ts {
			if t.Equal(due) {
				ts = append(ts[:i], ts[i+1:]...)
				break
			}
		}
		if len(ts) == 0 {
			delete(d.scopeDue, scope)
		} else {
			d.scopeDue[scope] = ts
		}
		d.dueScopes[scope] = true
		d.mu.Unlock()
		signal(d.scoped)
	})
}

// takeDueScopes returns and clears the scopes whose re-listing is due.
func (d *Dispatcher) takeDueScopes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.dueScopes))
	for s := range d.dueScopes {
		out = append(out, s)
	}
	clear(d.dueScopes)
	return out
}

// requestRepair asks the reconcile loop for a job reconcile after delay
// (a dispatch whose outcome is unknown, a run to correlate).
func (d *Dispatcher) requestRepair(delay time.Duration) {
	time.AfterFunc(delay, func() { signal(d.repair) })
}

// Run dispatches and reconciles until ctx ends. Call it only while holding
// leadership. It reconciles once at start, then serves wake-ups, the safety
// tick, the reconcile period, scheduled scopes and the delivery scans'
// own timer (RedeliverInterval). Reconciles run on their
// own goroutine so a slow listing never delays a dispatch, and a pass's
// dispatch requests run on their own goroutines so a wake-up that arrives
// while GitHub is still answering (hundreds of milliseconds) is served at
// once rather than after the slowest request; the claimed jobs are in
// dispatching and count as in flight, so overlapping passes cannot promise a
// runner twice. Run returns once the dispatches it started have ended.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.log.Info().Dur("interval", d.opts.Interval).Dur("reconcile_interval", d.opts.ReconcileInterval).
		Dur("start_timeout", d.opts.StartTimeout).Msg("dispatcher started")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.reconcileLoop(ctx)
	}()
	if d.opts.RedeliverWindow >= 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.sweepLoop(ctx)
		}()
	}
	d.Wake("start")
	tick := time.NewTicker(d.opts.Interval)
	defer tick.Stop()
	// A pass that failed (the database busy or briefly away) is tried
	// again soon, backing off to the interval, rather than waiting for the
	// next wake-up or tick: the wake-up that caused it is spent.
	var retry time.Duration
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			d.inflight.Wait()
			d.log.Info().Msg("dispatcher stopped")
			return nil
		case <-d.wake:
		case <-tick.C:
		}
		err := d.passAsync(ctx)
		switch {
		case err == nil:
			retry = 0
		case ctx.Err() == nil:
			retry = min(max(2*retry, failedPassRetry), d.opts.Interval)
			d.log.Error().Err(err).Dur("retry_in", retry).Msg("dispatch pass failed")
			time.AfterFunc(retry, func() { d.Wake("retry after a failed pass") })
		}
	}
}

// failedPassRetry is the first wait before a failed pass is tried again.
const failedPassRetry = 250 * time.Millisecond

func (d *Dispatcher) reconcileLoop(ctx context.Context) {
	if err := d.ReconcileNow(ctx); err != nil && ctx.Err() == nil {
		d.log.Error().Err(err).Msg("initial reconcile")
	}
	tick := time.NewTicker(d.opts.ReconcileInterval)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			err = d.ReconcileNow(ctx)
		case <-d.repair:
			err = d.ReconcileJobs(ctx)
		case <-d.scoped:
			for _, s := range d.takeDueScopes() {
				err = errors.Join(err, d.ReconcileScope(ctx, s))
			}
		}
		if err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("reconcile")
		}
	}
}

// signal does a non-blocking send on a one-slot channel: the slot holds at
// most one pending signal, which is what coalesces bursts.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

type nopEvents struct{}

func (nopEvents) RunnerChanged(core.Runner) {}

type nopMetrics struct{}

func (nopMetrics) CycleDone(time.Duration)               {}
func (nopMetrics) Dispatched(string, string)             {}
func (nopMetrics) DispatchLatency(string, time.Duration) {}
func (nopMetrics) StartTimedOut(string)                  {}
func (nopMetrics) Reconciled(string, error)              {}
func (nopMetrics) Redelivered(string)                    {}
func (nopMetrics) LabelMismatch(string, string)          {}
