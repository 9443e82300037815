package dispatcher

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// runGETs counts the reads of one run GitHub received.
func (e *env) runGETs(runID int64) int {
	suffix := fmt.Sprintf("/actions/runs/%d", runID)
	return len(e.sim.Requests(func(r ghsim.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.Path, suffix)
	}))
}

func TestReconcileFinishesJobOnIdleRunner(t *testing.T) {
	t.Run("run whose completion webhooks were all lost is finished by the next reconcile and its runner reused", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, s *store.Store) {
			e := newEnv(t, s, envOptions{runners: 1, ignoreRunCompleted: true, ignoreJobCompleted: true})
			// OverdueAfter far away: only the idle runner may end the job.
			d := e.dispatcher(func(o *Options) { o.OverdueAfter = time.Hour })
			e.reconcileRunners(d)
			first, next := e.enqueue(tmplPlain), e.enqueue(tmplPlain)
			if rep := e.pass(d); rep.Claimed != 1 {
				t.Fatalf("claimed %d, want 1 (one runner)", rep.Claimed)
			}
			// Every webhook answered: a late workflow_job in_progress would
			// mark the runner busy again after the listing.
			e.waitFor("the first run to complete on GitHub and its webhooks answered", 5*time.Second, func() bool {
				r, ok := e.sim.GetRun(e.job(first.ID).RunID)
				return ok && r.Status == ghsim.StatusCompleted && !slices.ContainsFunc(e.sim.Deliveries(), func(dl ghsim.Delivery) bool {
					return dl.StatusCode == 0
				})
			})
			if rep := e.pass(d); rep.Claimed != 0 {
				t.Fatal("claimed a job while the stored state still shows the runner busy")
			}
			if err := d.ReconcileNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			run, _ := e.sim.GetRun(e.job(first.ID).RunID)
			if j, want := e.job(first.ID), core.StatusForConclusion(run.Conclusion); j.Status != want || !want.Terminal() {
				t.Fatalf("first job = %s after the reconcile saw its runner idle, want %s (run concluded %q)", j.Status, want, run.Conclusion)
			}
			if rep := e.pass(d); rep.Claimed != 1 {
				t.Fatalf("claimed %d after the reconcile, want the next job on the freed runner", rep.Claimed)
			}
			if j := e.job(next.ID); j.Status != core.StatusTriggered && j.Status != core.StatusRunning {
				t.Fatalf("next job = %s, want dispatched", j.Status)
			}
		})
	})
	t.Run("job running on a busy runner is not re-read", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, s *store.Store) {
			e := newEnv(t, s, envOptions{runners: 1})
			d := e.dispatcher(func(o *Options) { o.OverdueAfter = time.Hour })
			e.reconcileRunners(d)
			j := e.enqueue(tmplLong)
			e.pass(d)
			e.waitFor("the runner busy on the job", 5*time.Second, func() bool {
				rs, err := s.ListRunners(context.Background(), store.RunnerFilter{})
				return err == nil && len(rs) == 1 && rs[0].Busy
			})
			// The test receiver may drop workflow_run in_progress when it
			// beats the run id being recorded; the first reconcile re-reads
			// such a triggered job (its runner is not known busy on it) and
			// moves it to running.
			if err := d.ReconcileNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := e.job(j.ID); got.Status != core.StatusRunning {
				t.Fatalf("job = %s after a reconcile with its run in progress, want running", got.Status)
			}
			e.sim.ResetRequests()
			if err := d.ReconcileNow(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := e.runGETs(e.job(j.ID).RunID); n != 0 {
				t.Fatalf("run read %d times although its runner is busy on it, want 0", n)
			}
			if got := e.job(j.ID); got.Status != core.StatusRunning {
				t.Fatalf("job = %s, want still running", got.Status)
			}
		})
	})
}

// appliedButFailed is a GitHub whose dispatch requests reach GitHub and
// create their run, but whose answer is lost as a 502: the ambiguous case.
type appliedButFailed struct {
	GitHub
}

func (a appliedButFailed) Dispatch(ctx context.Context, req gh.DispatchRequest) (gh.DispatchResult, error) {
	if _, err := a.GitHub.Dispatch(ctx, req); err != nil {
		return gh.DispatchResult{}, err
	}
	return gh.DispatchResult{}, &gh.APIError{Status: http.StatusBadGateway, Message: "Server Error",
		Endpoint: "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", MaybeApplied: true}
}

func TestAmbiguousDispatchAdoptsTitledRunEarly(t *testing.T) {
	cases := []struct {
		name     string
		template string
		want     core.JobStatus // right after CorrelateDelay, well before DispatchingGrace
	}{
		{"502 on a dispatch whose run is titled with the job id is adopted within seconds", tmplTitled, core.StatusTriggered},
		{"502 on a dispatch without the job id input waits for the grace period", tmplPlain, core.StatusDispatching},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				e := newEnv(t, s, envOptions{runners: 1, jobDuration: time.Hour})
				d := e.dispatcher(func(o *Options) {
					o.GitHub = appliedButFailed{e.gh}
					o.CorrelateDelay = 50 * time.Millisecond
				})
				e.reconcileRunners(d)
				j := e.enqueue(c.template)
				if rep := e.pass(d); rep.Outcomes[OutcomeAmbiguous] != 1 {
					t.Fatalf("pass = %+v, want one ambiguous dispatch", rep)
				}
				e.clock.Advance(60 * time.Millisecond)
				if err := d.ReconcileJobs(context.Background()); err != nil {
					t.Fatal(err)
				}
				got := e.job(j.ID)
				if got.Status == core.StatusRunning {
					got.Status = core.StatusTriggered // the run may have started already
				}
				if got.Status != c.want {
					t.Fatalf("job = %s run %d after CorrelateDelay, want %s", got.Status, got.RunID, c.want)
				}
				if c.want == core.StatusTriggered {
					run, ok := e.sim.GetRun(got.RunID)
					if !ok || run.DisplayTitle != itoa(j.ID) {
						t.Fatalf("adopted run %d titled %q, want the run titled %d", got.RunID, run.DisplayTitle, j.ID)
					}
				}
				if n := e.sim.CountDispatches(); n != 1 {
					t.Fatalf("%d runs created, want exactly 1", n)
				}
			})
		})
	}
}
