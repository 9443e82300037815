package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// Route is where GitHub posts the App's webhooks.
const Route = githubapp.DefaultWebhookRoute

// Waker wakes the dispatcher at once; called after anything that can free
// capacity (a runner went idle, GitHub-side demand went away, an
// installation became usable).
type Waker interface {
	Wake(reason string)
}

// Reconciler re-lists one runner scope ("org:NAME" or "repo:OWNER/NAME")
// after delay. Implementations debounce: several requests for a scope within
// the delay collapse into one listing.
type Reconciler interface {
	ScheduleScope(scope string, delay time.Duration)
}

// Jobs is the queue service, the one owner of our jobs' state
// (docs/ARCHITECTURE.md, "Job states"); *queue.Service implements it. The
// handlers change a job only through it, on the delivery's own transaction,
// and pass each queue.Outcome to Emit after the commit: a failed delivery
// rolls back the change (a finish, its requeued copy) together with the
// delivery record, announces nothing, and a redelivery applies it once.
// FinishTx must be idempotent: finishing a job that already ended returns
// core.ErrTransition.
type Jobs interface {
	AdvanceTx(ctx context.Context, q *store.Q, job core.Job, to core.JobStatus, runnerName string) (queue.Outcome, error)
	NameRunnerTx(ctx context.Context, q *store.Q, job core.Job, name string) (queue.Outcome, error)
	AttachRunTx(ctx context.Context, q *store.Q, jobID, runID int64, runURL string) (queue.Outcome, error)
	CheckLabelsTx(ctx context.Context, q *store.Q, job core.Job, runsOn []string) (queue.LabelCheck, error)
	FinishTx(ctx context.Context, q *store.Q, jobID int64, conclusion, runnerName string) (queue.Outcome, error)
	ResumeOwnerTx(ctx context.Context, q *store.Q, owner string) ([]queue.Outcome, error)
	Emit(out queue.Outcome)
}

var _ Jobs = (*queue.Service)(nil)

// RunnerEvents hears about every runner whose state a delivery changed
// (created, busy, idle, retired), after the delivery committed, for live
// runner_status updates. The server's WebSocket hub implements it.
type RunnerEvents interface {
	RunnerChanged(r core.Runner)
}

// InstallationCache is the GitHub client's memory of which installation
// serves an owner or repository (*gh.Client implements it). Installation
// events change the answer, so it is emptied after each one commits.
type InstallationCache interface {
	ForgetInstallations()
}

// Metrics counts what the endpoint did. Delivery outcomes: applied,
// duplicate, unhandled, invalid_signature, bad_request, failed.
type Metrics interface {
	Delivery(event, outcome string)
	LabelMismatch(group, template string)
}

// Options configures the webhook endpoint. Store, Queue and WebhookSecret are
// required; nil Waker, Reconciler, Runners and Metrics do nothing.
type Options struct {
	Store  *store.Store
	Queue  Jobs
	Logger zerolog.Logger
	// WebhookSecret is the App's webhook secret. An empty secret is refused:
	// go-github would skip the signature check altogether.
	WebhookSecret string
	Waker         Waker
	Reconciler    Reconciler
	// Runners hears each runner change once, after the commit.
	Runners RunnerEvents
	// Installations, optional, is forgotten after installation and
	// installation_repositories events.
	Installations InstallationCache
	Metrics       Metrics
	// BotLogin returns the login the App acts as ("<slug>[bot]"), the actor
	// of the runs it dispatches. It is only needed to correlate runs on
	// GitHub Enterprise Server before 3.20; nil turns correlation off.
	BotLogin func(ctx context.Context) (string, error)
	// AnomalyDelay is how soon a scope is re-listed after an anomaly (an
	// unknown runner); default 2s.
	AnomalyDelay time.Duration
	// RelistDelays are when a scope is re-listed after one of its ephemeral
	// runners finished, so its replacement is found in seconds; default
	// 3s and 15s.
	RelistDelays []time.Duration
	// CorrelationSkew is how much earlier than our dispatch a run may claim
	// to be created and still be ours (clocks of GitHub and this server
	// differ); default 5s.
	CorrelationSkew time.Duration
	// Slash runs /dispatch comments; nil leaves issue_comment unhandled
	// (acknowledged and counted like any unknown event).
	Slash CommentHandler
}

// base holds what every event handler needs.
type base struct {
	store           *store.Store
	queue           Jobs
	log             zerolog.Logger
	waker           Waker
	reconciler      Reconciler
	runners         RunnerEvents
	installations   InstallationCache
	metrics         Metrics
	botLogin        func(ctx context.Context) (string, error)
	anomalyDelay    time.Duration
	relistDelays    []time.Duration
	correlationSkew time.Duration
}

// New builds the webhook endpoint: signature check, then go-githubapp's
// event dispatcher with one handler per event.
func New(opts Options) (http.Handler, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("handlers: a store is required")
	case opts.Queue == nil:
		return nil, errors.New("handlers: a queue service is required")
	case opts.WebhookSecret == "":
		return nil, errors.New("handlers: the webhook secret is empty; unsigned webhooks would be accepted")
	}
	b := &base{
		store: opts.Store, queue: opts.Queue, log: opts.Logger.With().Str("component", "handlers").Logger(),
		waker: opts.Waker, reconciler: opts.Reconciler, runners: opts.Runners, installations: opts.Installations,
		metrics: opts.Metrics, botLogin: opts.BotLogin, anomalyDelay: opts.AnomalyDelay, relistDelays: opts.RelistDelays,
		correlationSkew: opts.CorrelationSkew,
	}
	if b.waker == nil {
		b.waker = nopWaker{}
	}
	if b.reconciler == nil {
		b.reconciler = nopReconciler{}
	}
	if b.runners == nil {
		b.runners = nopRunners{}
	}
	if b.installations == nil {
		b.installations = nopInstallations{}
	}
	if b.metrics == nil {
		b.metrics = nopMetrics{}
	}
	if b.anomalyDelay <= 0 {
		b.anomalyDelay = 2 * time.Second
	}
	if len(b.relistDelays) == 0 {
		b.relistDelays = []time.Duration{3 * time.Second, 15 * time.Second}
	}
	if b.correlationSkew <= 0 {
		b.correlationSkew = 5 * time.Second
	}
	handlers := []githubapp.EventHandler{
		&WorkflowJob{b}, &WorkflowRun{b}, &Installation{b}, &InstallationRepositories{b}, &Ping{b},
	}
	if opts.Slash != nil {
		handlers = append(handlers, newIssueComment(b, opts.Slash))
	}
	return newEndpoint(b, opts.WebhookSecret, handlers), nil
}

// errDuplicate aborts the transaction of a delivery recorded before.
var errDuplicate = errors.New("duplicate delivery")

// errBadPayload marks a payload that cannot be applied whatever happens
// (undecodable, missing ids): it is answered 400, not retried as a 5xx.
var errBadPayload = errors.New("bad payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadPayload, fmt.Sprintf(format, args...))
}

// checkRepo refuses a repository full name that is not "owner/name".
func checkRepo(event, full string) error {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return badPayload("%s: repository %q is not owner/name", event, full)
	}
	return nil
}

// checkInstallation refuses an installation the store could not keep.
func checkInstallation(event string, in *github.Installation, selection string) error {
	if selection == "" {
		selection = in.GetRepositorySelection()
	}
	switch {
	case in.GetID() <= 0:
		return badPayload("%s without installation id", event)
	case in.GetAccount().GetLogin() == "":
		return badPayload("%s: installation %d has no account login", event, in.GetID())
	case selection != "" && selection != "all" && selection != "selected":
		return badPayload("%s: installation %d: repository_selection %q", event, in.GetID(), selection)
	}
	return nil
}

// effects are what a delivery asks of the world outside the database; they
// run only after its transaction committed, so a rolled-back delivery
// neither wakes the dispatcher nor announces a change that did not happen.
type effects struct {
	wakes  []string
	scopes []scheduled
	// jobs holds the queue's outcomes of our jobs' changes, in order.
	jobs []queue.Outcome
	// runners holds each runner the delivery changed, in its final state.
	runners []core.Runner
	// labelMismatch is (group, template) pairs to count.
	labelMismatch [][2]string
	// installations: the App's installations changed.
	installations bool
}

type scheduled struct {
	scope string
	delay time.Duration
}

func (e *effects) wake(reason string) { e.wakes = append(e.wakes, reason) }

// runnerChanged notes a runner's new state; a runner changed twice by one
// delivery (created, then busy) is announced once, as it ended.
func (e *effects) runnerChanged(r core.Runner) {
	for i := range e.runners {
		if e.runners[i].ID == r.ID {
			e.runners[i] = r
			return
		}
	}
	e.runners = append(e.runners, r)
}

func (e *effects) schedule(scope string, delays ...time.Duration) {
	for _, d := range delays {
		e.scopes = append(e.scopes, scheduled{scope, d})
	}
}

// apply records the delivery and runs fn in one transaction, then runs the
// effects fn collected. fresh is false for a delivery recorded before: fn did
// not run and the caller acknowledges it.
func (b *base) apply(ctx context.Context, delivery, event, action string, fn func(q *store.Q, fx *effects) error) (fresh bool, err error) {
	var fx effects
	err = b.store.InTx(ctx, func(q *store.Q) (err error) {
		// A panic must still roll the transaction back: go-githubapp turns
		// handler panics into errors, and a transaction left open would
		// hold SQLite's only connection forever.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic applying %s delivery %s: %v\n%s", event, delivery, r, debug.Stack())
			}
		}()
		if err := q.RecordDelivery(ctx, delivery, event, action); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return errDuplicate
			}
			return err
		}
		return fn(q, &fx)
	})
	if errors.Is(err, errDuplicate) {
		setOutcome(ctx, outcomeDuplicate)
		zerolog.Ctx(ctx).Info().Msg("duplicate delivery acknowledged, not applied again")
		return false, nil
	}
	if err != nil {
		return false, err
	}
	setOutcome(ctx, outcomeApplied)
	b.run(fx)
	return true, nil
}

func (b *base) run(fx effects) {
	if fx.installations {
		b.installations.ForgetInstallations()
	}
	for _, out := range fx.jobs {
		b.queue.Emit(out)
	}
	for _, r := range fx.runners {
		b.runners.RunnerChanged(r)
	}
	for _, p := range fx.labelMismatch {
		b.metrics.LabelMismatch(p[0], p[1])
	}
	for _, s := range fx.scopes {
		b.reconciler.ScheduleScope(s.scope, s.delay)
	}
	for _, r := range fx.wakes {
		b.waker.Wake(r)
	}
}

// logger returns the request's logger (component, event, delivery) with the
// installation id added.
func (b *base) logger(ctx context.Context, installationID int64) zerolog.Logger {
	l := zerolog.Ctx(ctx)
	if l.GetLevel() == zerolog.Disabled {
		l = &b.log
	}
	return l.With().Int64("installation", installationID).Logger()
}

type nopWaker struct{}

func (nopWaker) Wake(string) {}

type nopReconciler struct{}

func (nopReconciler) ScheduleScope(string, time.Duration) {}

type nopInstallations struct{}

func (nopInstallations) ForgetInstallations() {}

type nopRunners struct{}

func (nopRunners) RunnerChanged(core.Runner) {}

type nopMetrics struct{}

func (nopMetrics) Delivery(string, string)      {}
func (nopMetrics) LabelMismatch(string, string) {}
