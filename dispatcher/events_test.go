package dispatcher

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// eventsRecorder records what Options.Runners, or the queue service's
// events (env.jobs), heard.
type eventsRecorder struct {
	mu      sync.Mutex
	runners []core.Runner
	jobs    []core.Job
}

func (r *eventsRecorder) RunnerChanged(x core.Runner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runners = append(r.runners, x)
}

func (r *eventsRecorder) JobChanged(j core.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, j)
}

// takeRunners returns and forgets the runner changes heard so far.
func (r *eventsRecorder) takeRunners() []core.Runner {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.runners
	r.runners = nil
	return out
}

// forgetJobs drops the job changes heard so far.
func (r *eventsRecorder) forgetJobs() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = nil
}

func (r *eventsRecorder) jobChanges(id int64) []core.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []core.Job
	for _, j := range r.jobs {
		if j.ID == id {
			out = append(out, j)
		}
	}
	return out
}

// Each runner a reconcile adds, updates or removes is announced exactly
// once; a removed one as last known, offline.
func TestReconcileAnnouncesRunnerChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 2})
		rec := &eventsRecorder{}
		d := e.dispatcher(func(o *Options) { o.Runners = rec })
		steps := []struct {
			name   string
			change func()
			want   map[int64]core.RunnerStatus
		}{
			{"first listing adds both runners", func() {}, map[int64]core.RunnerStatus{e.runners[0]: core.RunnerOnline, e.runners[1]: core.RunnerOnline}},
			{"an unchanged listing announces nothing", func() {}, nil},
			{"a runner going offline is announced once", func() {
				if err := e.sim.SetRunnerOnline(e.runners[0], false); err != nil {
					t.Fatal(err)
				}
			}, map[int64]core.RunnerStatus{e.runners[0]: core.RunnerOffline}},
			{"a vanished runner is announced offline", func() {
				if err := e.sim.RemoveRunner(e.runners[1]); err != nil {
					t.Fatal(err)
				}
			}, map[int64]core.RunnerStatus{e.runners[1]: core.RunnerOffline}},
		}
		for _, st := range steps {
			st.change()
			e.reconcileRunners(d)
			got := rec.takeRunners()
			if len(got) != len(st.want) {
				t.Fatalf("%s: heard %+v, want %d changes", st.name, got, len(st.want))
			}
			for _, r := range got {
				status, ok := st.want[r.ID]
				if !ok || r.Status != status || r.Busy || r.Name == "" || len(r.Labels) == 0 {
					t.Fatalf("%s: heard %+v, want runner %d %s, named, with labels", st.name, r, r.ID, status)
				}
			}
		}
	})
}

// A run that never starts is flagged on the job itself, once, so the API
// and the UI say why it waits.
func TestStartTimeoutRecordedOnJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1, jobDuration: time.Hour})
		rec := e.jobs
		d := e.dispatcher(func(o *Options) { o.StartTimeout = 200 * time.Millisecond })
		e.reconcileRunners(d)
		stuck := e.enqueue(tmplStuck)
		if rep := e.pass(d); rep.Claimed != 1 {
			t.Fatalf("pass claimed %d, want 1", rep.Claimed)
		}
		if err := d.ReconcileJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		if j := e.job(stuck.ID); j.Error != "" {
			t.Fatalf("job flagged %q before start_timeout", j.Error)
		}
		// The run's queued webhook flags its label mismatch (the stuck
		// template asks for a label the group lacks) at a moment of its own;
		// wait for it, so only the start_timeout flag counts below.
		e.waitFor("the run's label mismatch flagged", 5*time.Second, func() bool { return e.job(stuck.ID).LabelMismatch != "" })
		rec.forgetJobs() // its dispatch was announced; only the flag counts below
		e.clock.Advance(250 * time.Millisecond)
		for range 2 {
			if err := d.ReconcileJobs(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		j := e.job(stuck.ID)
		if j.Status != core.StatusTriggered || j.Error != "run did not start within 200ms" {
			t.Fatalf("job %s error %q, want triggered with the start_timeout reason", j.Status, j.Error)
		}
		if got := rec.jobChanges(stuck.ID); len(got) != 1 || got[0].Error != j.Error {
			t.Fatalf("announced %d changes of the job (%+v), want the flag once", len(got), got)
		}
		// A restarted leader does not write or announce it again.
		d2 := e.dispatcher(func(o *Options) { o.StartTimeout = 200 * time.Millisecond })
		if err := d2.ReconcileJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := rec.jobChanges(stuck.ID); len(got) != 1 {
			t.Fatalf("announced the flag %d times across a restart, want once", len(got))
		}
		// The run starts after all: the flag goes.
		if _, err := s.Transition(context.Background(), store.TransitionRequest{JobID: stuck.ID, From: core.StatusTriggered, To: core.StatusRunning}); err != nil {
			t.Fatal(err)
		}
		if err := d2.ReconcileJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		if j := e.job(stuck.ID); j.Error != "" {
			t.Fatalf("running job still flagged %q", j.Error)
		}
	})
}

// On GHES before 3.20 a run found by the runs listing is attached to its
// triggered job while it still waits for a runner, not only once it runs.
func TestGHESQueuedRunAttachedByReconcile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1, ghes319: true, ignoreRunEvents: true})
		rec := e.jobs
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		stuck := e.enqueue(tmplStuck) // its run stays queued: no runner has its labels
		if rep := e.pass(d); rep.Outcomes[OutcomeTriggered] != 1 {
			t.Fatalf("pass = %+v, want 1 triggered", rep)
		}
		if j := e.job(stuck.ID); j.RunID != 0 {
			t.Fatalf("job has run %d, want none without run details", j.RunID)
		}
		var run ghsim.Run
		e.waitFor("the run and its queued job exist", 5*time.Second, func() bool {
			for _, r := range e.sim.Runs() {
				if strings.HasSuffix(r.WorkflowPath, "/stuck.yml") {
					run = r
				}
			}
			q, _ := e.store.QueuedGitHubJobs(context.Background())
			return run.ID != 0 && len(q) == 1
		})
		rec.forgetJobs() // its dispatch was announced; only the attached run counts below
		if err := d.ReconcileJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		j := e.job(stuck.ID)
		if j.Status != core.StatusTriggered || j.RunID != run.ID || j.RunURL == "" {
			t.Fatalf("job %s run %d url %q, want triggered with run %d", j.Status, j.RunID, j.RunURL, run.ID)
		}
		// Attaching links the run's queued job, whose delivery found no job
		// of ours: its labels are checked then, and the flag announced.
		if got := rec.jobChanges(stuck.ID); len(got) != 2 || got[0].RunID != run.ID || got[0].LabelMismatch != "" ||
			got[1].LabelMismatch == "" {
			t.Fatalf("announced %+v, want the attached run once, then its label mismatch", got)
		}
		q, err := e.store.QueuedGitHubJobs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].JobID != stuck.ID {
			t.Fatalf("queued GitHub jobs %+v, want the run's job linked to job %d", q, stuck.ID)
		}
	})
}

// racingGitHub lets a "webhook" record the run before the dispatcher's own
// dispatching -> triggered step, as the handlers do when workflow_run
// requested overtakes GitHub's answer to the dispatch.
type racingGitHub struct {
	GitHub
	store *store.Store
	// runFor picks the run id the webhook records for the dispatched run.
	runFor func(gh.DispatchResult) int64
}

func (g racingGitHub) Dispatch(ctx context.Context, req gh.DispatchRequest) (gh.DispatchResult, error) {
	res, err := g.GitHub.Dispatch(ctx, req)
	if err != nil {
		return res, err
	}
	js, err := g.store.ListJobsByStatus(ctx, core.StatusDispatching)
	if err != nil || len(js) != 1 {
		return res, err
	}
	j := js[0]
	if _, err := g.store.AttachRun(ctx, j.ID, g.runFor(res), ""); err != nil {
		return res, err
	}
	_, err = g.store.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: j.Status, To: core.StatusTriggered})
	return res, err
}

func TestDispatchRecordedFirstByWebhook(t *testing.T) {
	cases := []struct {
		name     string
		runFor   func(gh.DispatchResult) int64
		wantWarn bool
	}{
		{"the same run recorded first is success, not a warning", func(r gh.DispatchResult) int64 { return r.RunID }, false},
		{"another run recorded first is an anomaly", func(r gh.DispatchResult) int64 { return r.RunID + 1_000_000 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), envOptions{runners: 1, jobDuration: time.Hour})
			var logs bytes.Buffer
			d := e.dispatcher(func(o *Options) {
				o.GitHub = racingGitHub{GitHub: e.gh, store: e.store, runFor: tc.runFor}
				o.Logger = zerolog.New(&syncWriter{w: &logs}).Level(zerolog.DebugLevel)
			})
			e.reconcileRunners(d)
			j := e.enqueue(tmplPlain)
			rep := e.pass(d)
			if rep.Outcomes[OutcomeTriggered] != 1 || e.metrics.count("sync/"+OutcomeTriggered) != 1 {
				t.Fatalf("pass %+v, metrics %d, want one triggered dispatch", rep, e.metrics.count("sync/"+OutcomeTriggered))
			}
			// The simulator may already have started the run.
			if got := e.job(j.ID); got.Status != core.StatusTriggered && got.Status != core.StatusRunning {
				t.Fatalf("job %s, want triggered (or running)", got.Status)
			}
			warned := strings.Contains(logs.String(), `"level":"warn"`)
			if warned != tc.wantWarn {
				t.Fatalf("warned=%v, want %v; logs:\n%s", warned, tc.wantWarn, logs.String())
			}
			if !tc.wantWarn && !strings.Contains(logs.String(), "a webhook recorded the run first") {
				t.Fatalf("no debug line for the webhook's win; logs:\n%s", logs.String())
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// A wake-up that arrives while GitHub is still answering an earlier
// dispatch is served at once: Run does not wait for a pass's requests.
func TestWakeDuringSlowDispatchIsServed(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), envOptions{runners: 2, jobDuration: time.Hour})
	release := make(chan struct{})
	var once sync.Once
	d := e.dispatcher(func(o *Options) {
		o.GitHub = blockingGitHub{GitHub: e.gh, block: func() {
			blocked := false
			once.Do(func() { blocked = true })
			if blocked {
				<-release // only the first dispatch hangs
			}
		}}
	})
	e.reconcileRunners(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	defer func() { close(release); cancel(); <-done }()

	first := e.enqueue(tmplPlain)
	e.waitFor("the first dispatch in flight", 5*time.Second, func() bool { return e.job(first.ID).Status == core.StatusDispatching })
	second := e.enqueue(tmplPlain)
	e.waitFor("the second job dispatched while the first still waits for GitHub", 5*time.Second, func() bool {
		return e.job(second.ID).Status == core.StatusTriggered
	})
	if got := e.job(first.ID).Status; got != core.StatusDispatching {
		t.Fatalf("first job %s, want still dispatching", got)
	}
}

type blockingGitHub struct {
	GitHub
	block func()
}

func (g blockingGitHub) Dispatch(ctx context.Context, req gh.DispatchRequest) (gh.DispatchResult, error) {
	g.block()
	return g.GitHub.Dispatch(ctx, req)
}

// The runner that finished our run's only job takes the next job at once,
// without waiting for the run's own completed event; a run with a job still
// queued keeps its runner promised.
func TestRunDoneOnRunnersFreesCapacity(t *testing.T) {
	for _, tc := range []struct {
		name         string
		laterJob     bool // the run has a second job still queued
		wantDispatch bool
	}{
		{"all jobs of the run completed: the next job goes out", false, true},
		{"a later job of the run still queued: nothing goes out", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				e := newEnv(t, s, envOptions{runners: 1, jobDuration: 150 * time.Millisecond, ignoreRunCompleted: true})
				d := e.dispatcher(nil)
				e.reconcileRunners(d)
				first := e.enqueue(tmplPlain)
				if rep := e.pass(d); rep.Claimed != 1 {
					t.Fatalf("first pass claimed %d", rep.Claimed)
				}
				run := e.job(first.ID).RunID
				e.waitFor("the run's job completed and its runner idle", 5*time.Second, func() bool {
					r, err := s.GetRunner(context.Background(), e.runners[0])
					gjs, _ := s.GitHubJobsOfRun(context.Background(), run)
					return err == nil && !r.Busy && len(gjs) == 1 && gjs[0].Status == store.GitHubJobCompleted
				})
				if j := e.job(first.ID); j.Status == core.StatusTriggered {
					// The run's in_progress overtook step 3 (the test receiver
					// then cannot find the job); apply it as the handlers would.
					if _, err := s.Transition(context.Background(), store.TransitionRequest{JobID: j.ID, From: j.Status, To: core.StatusRunning}); err != nil {
						t.Fatal(err)
					}
				}
				if tc.laterJob {
					if _, err := s.ApplyGitHubJob(context.Background(), store.GitHubJob{ID: 777, RunID: run, Repo: "acme/infra",
						Labels: syncLabels, Status: store.GitHubJobQueued, JobID: first.ID}); err != nil {
						t.Fatal(err)
					}
				}
				next := e.enqueue(tmplPlain)
				rep := e.pass(d)
				if got := rep.Claimed == 1; got != tc.wantDispatch {
					t.Fatalf("pass %+v: dispatched=%v, want %v", rep, got, tc.wantDispatch)
				}
				if j := e.job(first.ID); j.Status != core.StatusRunning {
					t.Fatalf("first job %s, want still running (its run's completed event was lost)", j.Status)
				}
				// The simulator picks a dispatched run up within milliseconds,
				// so the next job may already be running.
				if st := e.job(next.ID).Status; tc.wantDispatch && st != core.StatusTriggered && st != core.StatusRunning {
					t.Fatalf("next job %s, want triggered (or already running)", st)
				}
			})
		})
	}
}
