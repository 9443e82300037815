package dispatcher

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestGHES319RunsCorrelatedByReconcile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		// workflow_run events are not applied here: correlating from them is
		// handlers' job; this proves the reconciler's runs-listing fallback.
		e := newEnv(t, s, envOptions{runners: 2, ghes319: true, jobDuration: time.Hour, ignoreRunEvents: true})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		titled, plain := e.enqueue(tmplTitled), e.enqueue(tmplPlain)
		if rep := e.pass(d); rep.Outcomes[OutcomeTriggered] != 2 {
			t.Fatalf("pass = %+v, want 2 triggered", rep)
		}
		for _, id := range []int64{titled.ID, plain.ID} {
			if j := e.job(id); j.Status != core.StatusTriggered || j.RunID != 0 {
				t.Fatalf("job %d = %s run %d, want triggered without a run id (no run details on GHES 3.19)", id, j.Status, j.RunID)
			}
		}
		// GHES refused return_run_details: once, or twice when both concurrent
		// dispatches asked before the first refusal (gh's tests prove the
		// client stops asking afterwards).
		if refused := e.sim.Requests(func(r ghsim.Request) bool { return r.Status == 422 && strings.HasSuffix(r.Path, "/dispatches") }); len(refused) < 1 || len(refused) > 2 {
			t.Fatalf("%d dispatches refused return_run_details, want 1 or 2", len(refused))
		}
		// The runs start (pickup delay); the reconciler then finds them.
		e.waitFor("both runs in progress", 5*time.Second, func() bool {
			n := 0
			for _, r := range e.sim.Runs() {
				if r.Status == ghsim.StatusInProgress {
					n++
				}
			}
			return n == 2
		})
		if err := d.ReconcileJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{titled.ID, plain.ID} {
			j := e.job(id)
			if j.Status != core.StatusRunning || j.RunID == 0 {
				t.Fatalf("job %d = %s run %d after reconcile, want running with its run", id, j.Status, j.RunID)
			}
			run, _ := e.sim.GetRun(j.RunID)
			wantPath := ".github/workflows/" + map[int64]string{titled.ID: "titled.yml", plain.ID: "plain.yml"}[id]
			if run.WorkflowPath != wantPath {
				t.Fatalf("job %d correlated with a run of %s, want %s", id, run.WorkflowPath, wantPath)
			}
			if id == titled.ID && run.DisplayTitle != itoa(id) {
				t.Fatalf("titled job correlated with run titled %q", run.DisplayTitle)
			}
		}
	})
}

func TestStartTimeoutDoesNotFreezeGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		// Its queued webhook is lost, so nothing flags the label mismatch
		// and only start_timeout can tell the run will not start.
		e := newEnv(t, s, envOptions{runners: 1, jobDuration: time.Hour, ignoreJobQueued: true})
		timeout := 300 * time.Millisecond
		d := e.dispatcher(func(o *Options) { o.StartTimeout = timeout })
		e.reconcileRunners(d)
		stuck := e.enqueue(tmplStuck) // runs-on a label no runner has
		next := e.enqueue(tmplPlain)
		if rep := e.pass(d); rep.Claimed != 1 {
			t.Fatalf("first pass claimed %d, want the stuck job only", rep.Claimed)
		}
		if rep := e.pass(d); rep.Claimed != 0 {
			t.Fatal("the triggered job must hold the only runner until start_timeout")
		}
		e.clock.Advance(timeout + 50*time.Millisecond)
		if rep := e.pass(d); rep.Claimed != 1 {
			t.Fatalf("after start_timeout the pass claimed %d, want the next job", rep.Claimed)
		}
		if j := e.job(next.ID); j.Status != core.StatusTriggered {
			t.Fatalf("next job = %s, want triggered", j.Status)
		}
		for range 2 {
			if err := d.ReconcileJobs(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.metrics.timedOutCount("sync"); n != 1 {
			t.Fatalf("start_timeout reported %d times for one stuck run, want once", n)
		}
		if j := e.job(stuck.ID); j.Status != core.StatusTriggered {
			t.Fatalf("stuck job = %s, want still triggered (flagged, not failed)", j.Status)
		}
	})
}

func TestUnfamiliarConclusionEndsJobAndFreesGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		// workflow_run webhooks are lost: the reconciler re-reads the run.
		e := newEnv(t, s, envOptions{runners: 2, maxConcurrent: 1, ignoreRunEvents: true})
		d := e.dispatcher(func(o *Options) { o.OverdueAfter = time.Millisecond })
		e.reconcileRunners(d)
		odd, next := e.enqueue(tmplOdd), e.enqueue(tmplPlain)
		if rep := e.pass(d); rep.Claimed != 1 {
			t.Fatalf("claimed %d, want 1 (max_concurrent 1)", rep.Claimed)
		}
		e.waitFor("the odd run to complete", 5*time.Second, func() bool {
			r, ok := e.sim.GetRun(e.job(odd.ID).RunID)
			return ok && r.Status == ghsim.StatusCompleted
		})
		if rep := e.pass(d); rep.Claimed != 0 {
			t.Fatal("the group must stay full until the run's end is known")
		}
		e.clock.Advance(5 * time.Millisecond)
		if err := d.ReconcileJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		j := e.job(odd.ID)
		if j.Status != core.StatusFailed || j.Conclusion != "quantum_failure" {
			t.Fatalf("job = %s conclusion %q, want failed keeping the raw conclusion", j.Status, j.Conclusion)
		}
		if rep := e.pass(d); rep.Claimed != 1 {
			t.Fatalf("claimed %d after the odd run ended, want the next job", rep.Claimed)
		}
		if e.job(next.ID).Status != core.StatusTriggered {
			t.Fatal("next job not dispatched")
		}
	})
}

// Webhooks dropped, duplicated and reordered: the loop keeps going and the
// reconciler makes the runner table equal GitHub's and every job end.
func TestLostAndReorderedWebhooksRepaired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 3, jobDuration: 30 * time.Millisecond})
		e.sim.SetFaults(ghsim.Faults{WebhookDrop: 0.3, WebhookDuplicate: 0.2, WebhookReorder: 0.3})
		d := e.dispatcher(func(o *Options) {
			o.ReconcileInterval = 150 * time.Millisecond
			o.OverdueAfter = 50 * time.Millisecond
			o.Interval = 100 * time.Millisecond
		})
		var ids []int64
		for i := range 12 {
			tmpl := tmplPlain
			if i%2 == 0 {
				tmpl = tmplTitled
			}
			ids = append(ids, e.enqueue(tmpl).ID)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(ctx) }()
		e.waitFor("every job to end", 30*time.Second, func() bool {
			return len(e.jobsIn(core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)) == 0
		})
		cancel()
		wg.Wait()
		e.sim.SetFaults(ghsim.Faults{})
		// Late deliveries (a duplicated in_progress of a job whose completed
		// was dropped) may still be in flight; the claim is about the
		// reconcile after the webhooks settle.
		if err := e.sim.WaitIdle(context.Background()); err != nil {
			t.Fatal(err)
		}
		var dropped, reordered int
		for _, dl := range e.sim.Deliveries() {
			dropped += btoi(dl.Dropped)
			reordered += btoi(dl.Reordered)
		}
		if dropped == 0 || reordered == 0 {
			t.Fatalf("faults not exercised: %d dropped, %d reordered", dropped, reordered)
		}
		t.Logf("%d webhooks dropped, %d reordered", dropped, reordered)
		if err := d.ReconcileNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			j := e.job(id)
			run, ok := e.sim.GetRun(j.RunID)
			if !ok || j.Status != core.StatusForConclusion(run.Conclusion) || j.Conclusion != run.Conclusion {
				t.Errorf("job %d = %s %q, run %d = %s %q", id, j.Status, j.Conclusion, j.RunID, run.Status, run.Conclusion)
			}
		}
		if n := len(e.dispatchPOSTs()); n != len(ids) {
			t.Errorf("%d dispatches for %d jobs", n, len(ids))
		}
		type rs struct {
			id         int64
			busy, on   bool
			labelCount int
		}
		var want, got []rs
		for _, r := range e.sim.Runners() {
			want = append(want, rs{r.ID, r.Busy, r.Online, len(r.Labels)})
		}
		stored, err := e.store.ListRunners(context.Background(), store.RunnerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range stored {
			got = append(got, rs{r.ID, r.Busy, r.Status == core.RunnerOnline, len(r.Labels)})
		}
		cmp := func(a, b rs) int { return int(a.id - b.id) }
		slices.SortFunc(want, cmp)
		slices.SortFunc(got, cmp)
		if !slices.Equal(want, got) {
			t.Fatalf("runners after reconcile = %+v, GitHub has %+v", got, want)
		}
	})
}

func TestCancelDuringDispatchCancelsRunOnGitHub(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1, jobDuration: time.Hour})
		d := e.dispatcher(func(o *Options) {
			o.KillPoint = func(p string) bool {
				if p == KillAfterClaim {
					// The user cancels while the job is being dispatched.
					js, _ := e.store.ListJobsByStatus(context.Background(), core.StatusDispatching)
					for _, j := range js {
						if _, err := e.queue.Cancel(context.Background(), j.ID, "alice"); err != nil {
							t.Errorf("cancel: %v", err)
						}
					}
				}
				return false
			}
		})
		e.reconcileRunners(d)
		j := e.enqueue(tmplPlain)
		e.pass(d)
		got := e.job(j.ID)
		if !got.CancelRequested || got.RunID == 0 {
			t.Fatalf("job = %+v, want triggered with cancel requested", got)
		}
		if n := e.sim.CountRequests("POST", "/cancel"); n != 1 {
			t.Fatalf("%d cancel requests sent, want 1 for the run created after the cancel", n)
		}
		e.waitFor("run cancelled on GitHub", 5*time.Second, func() bool {
			r, _ := e.sim.GetRun(got.RunID)
			return r.Status == ghsim.StatusCompleted && r.Conclusion == "cancelled"
		})
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFailedDeliveriesRedeliveredOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1, jobDuration: 20 * time.Millisecond})
		e.failHooks.Store(true)
		d := e.dispatcher(func(o *Options) { o.RedeliverWindow = time.Hour })
		j, failed := runWithFailedDeliveries(t, e, d, 0)
		if e.job(j).Status.Terminal() {
			t.Fatal("job ended although every webhook failed")
		}
		e.failHooks.Store(false)
		for range 2 {
			if err := d.ReconcileNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := e.sim.WaitIdle(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.sim.CountRequests("POST", "/attempts"); n != failed {
			t.Fatalf("%d redelivery requests for %d failed deliveries over two sweeps, want one each", n, failed)
		}
		if got := e.job(j); got.Status != core.StatusCompleted {
			t.Fatalf("job = %s after redelivery, want completed", got.Status)
		}
	})
}

// Ephemeral runners vanish after one job and their replacements register
// without any webhook: the scope re-listing scheduled after the completion
// removes the old runner, finds the new one and puts it to work.
func TestEphemeralReplacementFoundByScheduledScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{jobDuration: 50 * time.Millisecond})
		first, err := e.sim.AddRunner(ghsim.Runner{Name: "eph", Scope: "org:acme", Labels: syncLabels,
			Online: true, Ephemeral: true, Replace: true, ReplaceAfter: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		d := e.dispatcher(nil) // reconcile and tick an hour apart: only ScheduleScope can help
		a, b := e.enqueue(tmplPlain), e.enqueue(tmplPlain)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(ctx) }()
		e.waitFor("both jobs to end", 10*time.Second, func() bool {
			return e.job(a.ID).Status.Terminal() && e.job(b.ID).Status.Terminal()
		})
		runs := map[string]bool{}
		for _, id := range []int64{a.ID, b.ID} {
			for _, j := range e.sim.Jobs() {
				if j.RunID == e.job(id).RunID {
					runs[j.RunnerName] = true
				}
			}
		}
		if len(runs) != 2 {
			t.Fatalf("jobs ran on %v, want the ephemeral runner and its replacement", runs)
		}
		if err := e.sim.WaitIdle(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.waitFor("the runner table to match GitHub's (the later re-listing finds the last replacement)", 5*time.Second, func() bool {
			stored, err := e.store.ListRunners(context.Background(), store.RunnerFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var got, want []int64
			for _, r := range stored {
				got = append(got, r.ID)
			}
			for _, r := range e.sim.Runners() {
				want = append(want, r.ID)
			}
			slices.Sort(got)
			slices.Sort(want)
			return slices.Equal(got, want) && !slices.Contains(got, first)
		})
		cancel()
		wg.Wait()
	})
}

// After an outage many deliveries have failed. Redelivering them all at once
// would spend the App's hourly budget (which installation lookups need too),
// so one scan sends at most MaxRedeliveries; the next scan sends the rest.
func TestRedeliveryIsCappedPerScan(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), envOptions{runners: 1, jobDuration: 20 * time.Millisecond})
	e.failHooks.Store(true)
	d := e.dispatcher(func(o *Options) { o.RedeliverWindow = time.Hour; o.MaxRedeliveries = 3 })
	_, failed := runWithFailedDeliveries(t, e, d, 3)
	e.failHooks.Store(false)
	sweep := func() int {
		if err := d.ReconcileNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := e.sim.WaitIdle(context.Background()); err != nil {
			t.Fatal(err)
		}
		return e.sim.CountRequests("POST", "/attempts")
	}
	if n := sweep(); n != 3 {
		t.Fatalf("first scan sent %d redeliveries, want the cap of 3 (of %d failed)", n, failed)
	}
	want := min(failed, 6)
	if n := sweep(); n != want {
		t.Fatalf("after two scans %d redeliveries, want %d", n, want)
	}
}

// runWithFailedDeliveries runs one job while every webhook delivery fails
// (e.failHooks must be set) and returns the job and how many deliveries
// failed, which must exceed atLeast (the tests' redelivery cap).
func runWithFailedDeliveries(t *testing.T, e *env, d *Dispatcher, atLeast int) (jobID int64, failed int) {
	t.Helper()
	e.reconcileRunners(d)
	j := e.enqueue(tmplPlain)
	e.pass(d)
	e.waitFor("the run to complete", 5*time.Second, func() bool {
		r, _ := e.sim.GetRun(e.job(j.ID).RunID)
		return r.Status == ghsim.StatusCompleted
	})
	if err := e.sim.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	failed = len(e.sim.Deliveries())
	if failed <= atLeast {
		t.Fatalf("only %d failed deliveries; the test needs more than the cap", failed)
	}
	return j.ID, failed
}
