package dispatcher

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestSeveralDispatchesInOnePass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 3, jobDuration: time.Hour})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		var ids []int64
		for range 5 {
			ids = append(ids, e.enqueue(tmplTitled).ID)
		}
		rep := e.pass(d)
		if rep.Claimed != 3 || rep.Outcomes[OutcomeTriggered] != 3 {
			t.Fatalf("pass = %+v, want 3 claimed and triggered (3 idle runners)", rep)
		}
		if n := len(e.dispatchPOSTs()); n != 3 {
			t.Fatalf("GitHub got %d dispatches, want 3", n)
		}
		for i, id := range ids {
			j := e.job(id)
			if i < 3 {
				// A fast simulator may already have started the run.
				dispatched := j.Status == core.StatusTriggered || j.Status == core.StatusRunning
				if !dispatched || j.RunID == 0 || j.RunURL == "" {
					t.Errorf("job %d (queue position %d) = %s run %d, want triggered (or running) with its run", id, i, j.Status, j.RunID)
				}
				run, ok := e.sim.GetRun(j.RunID)
				if !ok || run.DisplayTitle != itoa(id) {
					t.Errorf("job %d: run %d has display title %q, want the job id (dispatchoor_job_id input)", id, j.RunID, run.DisplayTitle)
				}
			} else if j.Status != core.StatusPending {
				t.Errorf("job %d beyond capacity = %s, want pending", id, j.Status)
			}
		}
		// The triggered jobs hold the three runners: nothing more goes out.
		if rep := e.pass(d); rep.Claimed != 0 {
			t.Fatalf("second pass claimed %d, want 0 while all runners are promised", rep.Claimed)
		}
	})
}

func TestNoDispatchWithoutFreeRunner(t *testing.T) {
	{
		for _, tc := range []struct {
			name  string
			block func(e *env) (release func())
		}{{
			name: "runner busy with a running job",
			block: func(e *env) func() {
				// A run of the same labels started outside the queue takes
				// the only runner; its in_progress webhook marks it busy.
				j := e.enqueue(tmplLong)
				d := e.dispatcher(nil)
				e.pass(d)
				e.waitFor("runner busy", 5*time.Second, func() bool {
					r, err := e.store.GetRunner(context.Background(), e.runners[0])
					return err == nil && r.Busy
				})
				return func() {
					if _, err := e.queue.Cancel(context.Background(), j.ID, "test"); err != nil {
						t.Fatal(err)
					}
				}
			},
		}, {
			name: "GitHub-queued demand for the same runners",
			block: func(e *env) func() {
				gj := store.GitHubJob{ID: 99, RunID: 98, Repo: "other/repo", Labels: syncLabels, Status: store.GitHubJobQueued}
				if _, err := e.store.ApplyGitHubJob(context.Background(), gj); err != nil {
					t.Fatal(err)
				}
				return func() {
					gj.Status = store.GitHubJobCompleted
					if _, err := e.store.ApplyGitHubJob(context.Background(), gj); err != nil {
						t.Fatal(err)
					}
				}
			},
		}} {
			t.Run(tc.name, func(t *testing.T) {
				storetest.Each(t, func(t *testing.T, s *store.Store) {
					e := newEnv(t, s, envOptions{runners: 1})
					d := e.dispatcher(nil)
					e.reconcileRunners(d)
					release := tc.block(e)
					before := len(e.dispatchPOSTs())
					j := e.enqueue(tmplPlain)
					if rep := e.pass(e.dispatcher(nil)); rep.Claimed != 0 {
						t.Fatalf("pass claimed %d with no free runner, want 0", rep.Claimed)
					}
					if n := len(e.dispatchPOSTs()); n != before {
						t.Fatalf("%d dispatches sent with no free runner", n-before)
					}
					release()
					e.waitFor("job dispatched once the runner is free", 5*time.Second, func() bool {
						_, _ = e.cur.Load().Pass(context.Background())
						return e.job(j.ID).Status != core.StatusPending
					})
				})
			})
		}
	}
}

func TestPermanentErrorFailsJobOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		j := e.enqueueReq(queue.EnqueueRequest{TemplateID: tmplMissing, AutoRequeue: true})
		rep := e.pass(d)
		if rep.Outcomes[OutcomeFailed] != 1 {
			t.Fatalf("pass = %+v, want one failed dispatch", rep)
		}
		got := e.job(j.ID)
		if got.Status != core.StatusFailed || !strings.Contains(got.Error, "404") {
			t.Fatalf("job = %s error %q, want failed with the 404 reason", got.Status, got.Error)
		}
		for range 3 {
			e.pass(d)
		}
		if pending := e.jobsIn(core.StatusPending, core.StatusDispatching); len(pending) != 0 {
			t.Fatalf("jobs %v queued after a permanent failure: auto-requeue must not loop", pending)
		}
		if n := len(e.dispatchPOSTs()); n != 1 {
			t.Fatalf("GitHub got %d dispatches of the missing workflow, want exactly 1", n)
		}
		if n := e.metrics.count("sync/" + OutcomeFailed); n != 1 {
			t.Fatalf("dispatches_total{outcome=failed} = %d, want 1", n)
		}
	})
}

func TestTransientErrorKeepsJobWithBackoff(t *testing.T) {
	{
		onDispatch := func(method, path string) bool {
			return method == http.MethodPost && strings.HasSuffix(path, "/dispatches")
		}
		// GitHub's Retry-After is taken as given, longer or shorter than our
		// own transient back-off.
		for _, tc := range []struct {
			name      string
			faults    ghsim.Faults
			backoff   time.Duration
			wantWait  time.Duration
			tolerance time.Duration
		}{
			{"429 returns the job to pending until Retry-After", ghsim.Faults{REST429: 1, RetryAfter: 120 * time.Second},
				time.Second, 120 * time.Second, 5 * time.Second},
			{"a Retry-After shorter than the transient back-off is taken as given", ghsim.Faults{RESTSecondary: 1, RetryAfter: 3 * time.Second},
				30 * time.Second, 3 * time.Second, 2 * time.Second},
		} {
			t.Run(tc.name, func(t *testing.T) {
				storetest.Each(t, func(t *testing.T, s *store.Store) {
					e := newEnv(t, s, envOptions{runners: 1})
					d := e.dispatcher(func(o *Options) { o.TransientBackoff = tc.backoff })
					e.reconcileRunners(d)
					faults := tc.faults
					faults.Match = onDispatch
					e.sim.SetFaults(faults)
					j := e.enqueue(tmplPlain)
					before := time.Now()
					if rep := e.pass(d); rep.Outcomes[OutcomeRetry] != 1 {
						t.Fatalf("pass = %+v, want one retry", rep)
					}
					got := e.job(j.ID)
					if got.Status != core.StatusPending || got.DispatchAfter == nil {
						t.Fatalf("job = %s dispatch_after %v, want pending with back-off", got.Status, got.DispatchAfter)
					}
					if wait := got.DispatchAfter.Sub(before); wait < tc.wantWait-100*time.Millisecond || wait > tc.wantWait+tc.tolerance {
						t.Fatalf("back-off = %s, want GitHub's Retry-After of %s (our own back-off is %s)", wait, tc.wantWait, tc.backoff)
					}
					e.sim.SetFaults(ghsim.Faults{})
					if rep := e.pass(d); rep.Claimed != 0 {
						t.Fatalf("job claimed again during its back-off")
					}
				})
			})
		}
		t.Run("502 on the dispatch leaves it dispatching until the reconciler resolves it", func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				e := newEnv(t, s, envOptions{runners: 1, jobDuration: time.Hour})
				grace := 300 * time.Millisecond
				d := e.dispatcher(func(o *Options) { o.DispatchingGrace = grace })
				e.reconcileRunners(d)
				e.sim.SetFaults(ghsim.Faults{REST5xx: 1, Match: onDispatch})
				j := e.enqueue(tmplPlain)
				if rep := e.pass(d); rep.Outcomes[OutcomeAmbiguous] != 1 {
					t.Fatalf("pass = %+v, want one ambiguous dispatch", rep)
				}
				if got := e.job(j.ID); got.Status != core.StatusDispatching {
					t.Fatalf("job = %s after a 502 on its dispatch, want dispatching (the run may exist)", got.Status)
				}
				e.sim.SetFaults(ghsim.Faults{})
				if err := d.ReconcileJobs(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := e.job(j.ID); got.Status != core.StatusDispatching {
					t.Fatalf("job = %s before the grace period ended, want dispatching", got.Status)
				}
				e.clock.Advance(grace)
				if err := d.ReconcileJobs(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := e.job(j.ID); got.Status != core.StatusPending {
					t.Fatalf("job = %s after the grace period with no run on GitHub, want pending", got.Status)
				}
				e.pass(d)
				// The simulated runner may already have taken the run.
				if got := e.job(j.ID); (got.Status != core.StatusTriggered && got.Status != core.StatusRunning) || got.RunID == 0 {
					t.Fatalf("job = %s run %d, want triggered (or already running) on the second attempt", got.Status, got.RunID)
				}
				if n := e.sim.CountDispatches(); n != 1 {
					t.Fatalf("%d runs created, want exactly 1", n)
				}
			})
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
