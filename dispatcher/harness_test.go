package dispatcher

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// The test world: org acme with repo acme/infra, the App installed on it,
// group "sync" served by runners labelled self-hosted+sync in org:acme, and
// one template per behaviour a test needs.
const (
	tmplTitled  = "titled"  // declares dispatchoor_job_id and shows it as run-name
	tmplPlain   = "plain"   // no inputs
	tmplMissing = "missing" // its workflow does not exist: 404
	tmplStuck   = "stuck"   // runs-on a label no runner has: never starts
	tmplOdd     = "odd"     // ends with a conclusion GitHub may add one day
	tmplLong    = "long"    // runs for an hour
)

var syncLabels = []string{"self-hosted", "sync"}

// sharedKey is one App key for every test: generating RSA keys under the
// race detector costs about a second each.
var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(crand.Reader, 2048) })

type envOptions struct {
	runners       int
	ghes319       bool
	maxConcurrent int
	jobDuration   time.Duration // default 50ms
	// ignoreRunEvents makes the webhook receiver drop workflow_run events,
	// as if GitHub never delivered them.
	ignoreRunEvents bool
	// ignoreRunCompleted drops only workflow_run completed events.
	ignoreRunCompleted bool
	// ignoreJobCompleted drops workflow_job completed events: with
	// ignoreRunCompleted, every completion webhook of a run is lost.
	ignoreJobCompleted bool
	// ignoreJobQueued drops workflow_job queued events, so no run is ever
	// flagged for a label mismatch: a run that never starts looks lost.
	ignoreJobQueued bool
	// queuedAfterRun holds a workflow_job queued delivery until the run is
	// recorded on our job (up to 2s), so the delivery finds the job.
	queuedAfterRun bool
}

type env struct {
	t       testing.TB
	sim     *ghsim.Sim
	store   *store.Store
	queue   *queue.Service
	gh      *gh.Client
	metrics *metricsRecorder
	// jobs hears every job change the queue service announced.
	jobs *eventsRecorder
	// clock is the store's and every dispatcher's clock: real time plus
	// what a test skipped ahead with Advance, so a test waits out a grace
	// period or a timeout without sleeping.
	clock *skewClock
	opts  envOptions
	cur   atomic.Pointer[Dispatcher]
	// failHooks makes the webhook receiver answer 500 to everything.
	failHooks atomic.Bool
	runners   []int64
}

func newEnv(t testing.TB, s *store.Store, o envOptions) *env {
	t.Helper()
	if o.jobDuration <= 0 {
		o.jobDuration = 50 * time.Millisecond
	}
	key, err := sharedKey()
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	e := &env{t: t, store: s, opts: o, metrics: &metricsRecorder{}, jobs: &eventsRecorder{}, clock: &skewClock{}}
	s.SetClock(e.clock.Now)
	e.sim = ghsimtest.New(t, ghsim.Options{
		Seed: 7, PrivateKey: key, WebhookSecret: "s3cret", GHES319: o.ghes319,
		JobDurationMin: o.jobDuration, JobDurationMax: o.jobDuration,
		PickupDelay: 5 * time.Millisecond, CancelDelay: 10 * time.Millisecond,
	})
	fixed := func(d time.Duration) func(*rand.Rand) time.Duration {
		return func(*rand.Rand) time.Duration { return d }
	}
	_, err = e.sim.AddRepo(ghsim.Repo{Owner: "acme", Name: "infra", Workflows: []*ghsim.Workflow{
		{File: "titled.yml", RunsOn: syncLabels, RunNameInput: JobIDInput,
			Inputs: []ghsim.WorkflowInput{{Name: JobIDInput}, {Name: "network", Required: true}}},
		{File: "plain.yml", RunsOn: syncLabels},
		{File: "stuck.yml", RunsOn: []string{"self-hosted", "gpu"}},
		{File: "odd.yml", RunsOn: syncLabels, Conclusion: func(*rand.Rand) string { return "quantum_failure" }},
		{File: "long.yml", RunsOn: syncLabels, Duration: fixed(time.Hour)},
	}})
	if err != nil {
		t.Fatalf("add repo: %v", err)
	}
	if _, err := e.sim.AddInstallation(ghsim.Installation{Account: "acme"}); err != nil {
		t.Fatalf("add installation: %v", err)
	}
	for i := range o.runners {
		id, err := e.sim.AddRunner(ghsim.Runner{Name: fmt.Sprintf("sync-%d", i), Scope: "org:acme",
			Labels: []string{"self-hosted", "Linux", "X64", "sync"}, Online: true})
		if err != nil {
			t.Fatalf("add runner: %v", err)
		}
		e.runners = append(e.runners, id)
	}
	hook := httptest.NewServer(&webhookReceiver{e: e})
	t.Cleanup(hook.Close)
	e.sim.SetWebhookURL(hook.URL)

	tmpl := func(id, wf string, inputs map[string]string) core.Template {
		return core.Template{ID: id, GroupID: "sync", Name: id, Owner: "acme", Repo: "infra", WorkflowID: wf, Ref: "main", Inputs: inputs}
	}
	groups := []core.Group{{ID: "sync", Name: "Sync", RunnerLabels: syncLabels, RunnerScope: "org:acme",
		MaxConcurrent: o.maxConcurrent, Enabled: true}}
	templates := []core.Template{
		tmpl(tmplTitled, "titled.yml", map[string]string{JobIDInput: "", "network": "hoodi"}),
		tmpl(tmplPlain, "plain.yml", nil),
		tmpl(tmplMissing, "missing.yml", nil),
		tmpl(tmplStuck, "stuck.yml", nil),
		tmpl(tmplOdd, "odd.yml", nil),
		tmpl(tmplLong, "long.yml", nil),
	}
	if _, err := s.SyncConfig(context.Background(), groups, templates); err != nil {
		t.Fatalf("sync config: %v", err)
	}
	e.gh, err = gh.New(gh.Options{APIURL: e.sim.APIURL(), AppID: e.sim.AppID(), PrivateKey: e.sim.PrivateKeyPEM(),
		Retry: gh.RetryPolicy{BaseDelay: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.queue, err = queue.New(queue.Options{Store: s, Events: queueEvents{e}, Canceller: RunCanceller{GitHub: e.gh}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// dispatcher builds a fresh Dispatcher on the env's store (a "new process")
// and routes webhook wake-ups to it.
func (e *env) dispatcher(mod func(*Options)) *Dispatcher {
	e.t.Helper()
	o := withConfigDefaults(Options{
		Store: e.store, Queue: e.queue, GitHub: e.gh, Metrics: e.metrics,
		Logger: zerolog.New(zerolog.NewTestWriter(e.t)).Level(zerolog.WarnLevel),
		// Tests drive reconciles themselves unless they run the loop.
		Interval: time.Hour, ReconcileInterval: time.Hour,
		CorrelateDelay: time.Millisecond, RedeliverWindow: -1, Now: e.clock.Now,
	})
	if mod != nil {
		mod(&o)
	}
	d, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.cur.Store(d)
	return d
}

// skewClock is real time moved ahead by Advance.
type skewClock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *skewClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

// Advance makes d pass at once for the store and the dispatchers.
func (c *skewClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

// withConfigDefaults fills the durations the config file exposes, and opts
// leaves zero, from the config's defaults, as the product does.
func withConfigDefaults(opts Options) Options {
	def := config.Default().Dispatcher
	for _, d := range []struct {
		field *time.Duration
		v     time.Duration
	}{
		{&opts.Interval, def.Interval}, {&opts.ReconcileInterval, def.ReconcileInterval},
		{&opts.StartTimeout, def.StartTimeout}, {&opts.DispatchingGrace, def.DispatchingGrace},
		{&opts.OverdueAfter, def.OverdueAfter}, {&opts.RedeliverInterval, def.RedeliverInterval},
	} {
		if *d.field == 0 {
			*d.field = d.v
		}
	}
	return opts
}

func (e *env) wake(reason string) {
	if d := e.cur.Load(); d != nil {
		d.Wake(reason)
	}
}

func (e *env) enqueue(template string) core.Job {
	e.t.Helper()
	return e.enqueueReq(queue.EnqueueRequest{TemplateID: template})
}

func (e *env) enqueueReq(req queue.EnqueueRequest) core.Job {
	e.t.Helper()
	req.GroupID, req.Source, req.CreatedBy = "sync", core.JobSourceAPI, "test"
	j, err := e.queue.Enqueue(context.Background(), req)
	template := req.TemplateID
	if err != nil {
		e.t.Fatalf("enqueue %s: %v", template, err)
	}
	return j
}

func (e *env) job(id int64) core.Job {
	e.t.Helper()
	j, err := e.store.GetJob(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

// reconcileRunners lists the runners into the store, as the reconciler
// does at start.
func (e *env) reconcileRunners(d *Dispatcher) {
	e.t.Helper()
	if err := d.ReconcileScope(context.Background(), "org:acme"); err != nil {
		e.t.Fatalf("reconcile runners: %v", err)
	}
}

func (e *env) pass(d *Dispatcher) PassReport {
	e.t.Helper()
	rep, err := d.Pass(context.Background())
	if err != nil {
		e.t.Fatalf("pass: %v", err)
	}
	return rep
}

// dispatchPOSTs lists the workflow dispatch requests GitHub received.
func (e *env) dispatchPOSTs() []ghsim.Request {
	return e.sim.Requests(func(r ghsim.Request) bool {
		return r.Method == "POST" && len(r.Path) > len("/dispatches") && r.Path[len(r.Path)-len("/dispatches"):] == "/dispatches"
	})
}

// waitFor polls cond until it holds or the deadline passes.
func (e *env) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			e.dump()
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(5 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
}

// jobsIn returns the ids of jobs in status, sorted.
func (e *env) jobsIn(statuses ...core.JobStatus) []int64 {
	e.t.Helper()
	js, err := e.store.ListJobsByStatus(context.Background(), statuses...)
	if err != nil {
		e.t.Fatal(err)
	}
	ids := make([]int64, 0, len(js))
	for _, j := range js {
		ids = append(ids, j.ID)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	return ids
}

type queueEvents struct{ e *env }

func (q queueEvents) JobCreated(core.Job)   { q.e.wake("job created") }
func (q queueEvents) JobChanged(j core.Job) { q.e.jobs.JobChanged(j) }
func (q queueEvents) QueueChanged(string)   { q.e.wake("queue changed") }
func (q queueEvents) GroupChanged(g string) { q.e.wake("group changed") }

// metricsRecorder counts what the dispatcher reported.
type metricsRecorder struct {
	mu          sync.Mutex
	cycles      int
	dispatched  map[string]int
	latencies   []time.Duration
	timedOut    map[string]int
	reconciled  int
	redelivered int
	mismatches  []string
}

func (m *metricsRecorder) CycleDone(time.Duration) { m.mu.Lock(); m.cycles++; m.mu.Unlock() }
func (m *metricsRecorder) Dispatched(group, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dispatched == nil {
		m.dispatched = map[string]int{}
	}
	m.dispatched[group+"/"+outcome]++
}
func (m *metricsRecorder) DispatchLatency(_ string, d time.Duration) {
	m.mu.Lock()
	m.latencies = append(m.latencies, d)
	m.mu.Unlock()
}
func (m *metricsRecorder) StartTimedOut(group string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timedOut == nil {
		m.timedOut = map[string]int{}
	}
	m.timedOut[group]++
}
func (m *metricsRecorder) Reconciled(string, error) { m.mu.Lock(); m.reconciled++; m.mu.Unlock() }
func (m *metricsRecorder) Redelivered(string)       { m.mu.Lock(); m.redelivered++; m.mu.Unlock() }
func (m *metricsRecorder) LabelMismatch(group, template string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mismatches = append(m.mismatches, group+"/"+template)
}

func (m *metricsRecorder) mismatchCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mismatches)
}

func (m *metricsRecorder) count(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dispatched[key]
}

func (m *metricsRecorder) timedOutCount(group string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.timedOut[group]
}

// dump logs the state of every live job, runner and simulated run, to
// explain a timeout.
func (e *env) dump() {
	ctx := context.Background()
	js, _ := e.store.ListJobsByStatus(ctx, core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
	for _, j := range js {
		e.t.Logf("job %d %s run %d paused=%t after=%v", j.ID, j.Status, j.RunID, j.Paused, j.DispatchAfter)
	}
	rs, _ := e.store.ListRunners(ctx, store.RunnerFilter{})
	for _, r := range rs {
		e.t.Logf("stored runner %d busy=%t job=%d status=%s", r.ID, r.Busy, r.CurrentJobID, r.Status)
	}
	for _, r := range e.sim.Runners() {
		e.t.Logf("sim runner %d busy=%t job=%d", r.ID, r.Busy, r.JobID)
	}
	for _, r := range e.sim.Runs() {
		if r.Status != ghsim.StatusCompleted {
			e.t.Logf("sim run %d %s created %s", r.ID, r.Status, r.CreatedAt.Format("15:04:05.000"))
		}
	}
	for _, j := range e.sim.Jobs() {
		if j.Status != ghsim.StatusCompleted {
			e.t.Logf("sim job %d %s runner %d started %s duration %s", j.ID, j.Status, j.RunnerID, j.StartedAt.Format("15:04:05.000"), j.Duration)
		}
	}
	for _, dl := range e.sim.Deliveries() {
		if !dl.Delivered {
			e.t.Logf("undelivered %s %s %s status %q at %s", dl.GUID, dl.Event, dl.Action, dl.Status, dl.DeliveredAt.Format("15:04:05.000"))
		}
	}
	e.t.Logf("now %s", time.Now().UTC().Format("15:04:05.000"))
	q, _ := e.store.QueuedGitHubJobs(ctx)
	for _, g := range q {
		e.t.Logf("github job %d queued run %d job %d", g.ID, g.RunID, g.JobID)
	}
}
