package dispatcher

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// A run flagged for asking labels no runner of its group has cannot start
// on the group's runners, so it stops holding one at once: with one idle
// runner, the next correct job goes out without waiting for start_timeout
// (docs/ARCHITECTURE.md, "Dispatch protocol").
func TestLabelMismatchedRunHoldsNoRunner(t *testing.T) {
	orders := []struct {
		name string
		env  envOptions
		// queuedFirst: the queued webhook is applied before the dispatch
		// answer records the run on our job, so linking the run checks
		// the labels; otherwise the delivery does.
		queuedFirst bool
	}{
		{name: "queued webhook after the run is recorded", env: envOptions{queuedAfterRun: true}},
		{name: "queued webhook before the run is recorded", queuedFirst: true},
	}
	for _, tc := range orders {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				o := tc.env
				o.runners, o.jobDuration = 1, time.Hour
				e := newEnv(t, s, o)
				d := e.dispatcher(func(o *Options) { // start_timeout: the default 30m
					if tc.queuedFirst {
						o.GitHub = queuedFirstGitHub{GitHub: e.gh, e: e}
					}
				})
				e.reconcileRunners(d)
				stuck := e.enqueue(tmplStuck) // runs-on self-hosted+gpu; the group's runners have no gpu
				next := e.enqueue(tmplPlain)
				if rep := e.pass(d); rep.Claimed != 1 {
					t.Fatalf("first pass claimed %d, want the stuck job only", rep.Claimed)
				}
				e.waitFor("the stuck run to be flagged", 5*time.Second, func() bool { return e.job(stuck.ID).LabelMismatch != "" })
				if rep := e.pass(d); rep.Claimed != 1 {
					t.Fatalf("pass after the flag claimed %d, want the next job (the flagged run holds no runner)", rep.Claimed)
				}
				if j := e.job(next.ID); j.Status != core.StatusTriggered && j.Status != core.StatusRunning {
					t.Fatalf("next job = %s, want triggered (or running)", j.Status)
				}
				if j := e.job(stuck.ID); j.Status != core.StatusTriggered {
					t.Fatalf("stuck job = %s, want still triggered (flagged, not failed)", j.Status)
				}
				// The runner is now promised to the next job: a third waits.
				e.enqueue(tmplPlain)
				if rep := e.pass(d); rep.Claimed != 0 {
					t.Fatalf("third pass claimed %d with the only runner promised to the next job", rep.Claimed)
				}
				if tc.queuedFirst {
					if got := e.metrics.mismatchCount(); got != 1 {
						t.Fatalf("label mismatch counted %d times by the dispatcher, want once", got)
					}
				}
			})
		})
	}
	t.Run("the flag wakes the dispatcher within a second", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, s *store.Store) {
			e := newEnv(t, s, envOptions{runners: 1, jobDuration: time.Hour, queuedAfterRun: true})
			d := e.dispatcher(nil)
			e.reconcileRunners(d)
			stuck := e.enqueue(tmplStuck)
			next := e.enqueue(tmplPlain)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			e.waitFor("the stuck run to be flagged", 5*time.Second, func() bool { return e.job(stuck.ID).LabelMismatch != "" })
			flagged := time.Now()
			e.waitFor("the next job to be triggered", time.Second, func() bool {
				st := e.job(next.ID).Status
				return st == core.StatusTriggered || st == core.StatusRunning
			})
			t.Logf("next job dispatched %s after the stuck run was flagged (start_timeout %s)", time.Since(flagged), 30*time.Minute)
		})
	})
}

// queuedFirstGitHub answers a dispatch only once a workflow_job of the run
// (its queued one, or a later one for a run picked up at once) has been
// applied, as happens when GitHub's webhook overtakes
// its answer: the delivery finds no job of ours yet.
type queuedFirstGitHub struct {
	GitHub
	e *env
}

func (g queuedFirstGitHub) Dispatch(ctx context.Context, req gh.DispatchRequest) (gh.DispatchResult, error) {
	res, err := g.GitHub.Dispatch(ctx, req)
	if err != nil || res.RunID == 0 {
		return res, err
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		gjs, err := g.e.store.GitHubJobsOfRun(ctx, res.RunID)
		if err != nil {
			return res, err
		}
		if len(gjs) > 0 {
			return res, nil
		}
	}
	return res, errors.New("test: the run's queued webhook did not arrive within 2s")
}
