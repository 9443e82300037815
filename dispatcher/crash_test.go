package dispatcher

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// The process "dies" at each step of the three-step dispatch; a fresh
// dispatcher on the same database must send every job exactly once.
func TestExactlyOneDispatchAfterKill(t *testing.T) {
	for _, tc := range []struct {
		point string
		// wantDispatching: right after the kill the job is still in
		// dispatching; else it has its run (triggered, or already running).
		wantDispatching bool
	}{
		{KillAfterClaim, true},
		{KillAfterDispatch, true},
		{KillAfterTrigger, false},
	} {
		for _, tmpl := range []string{tmplTitled, tmplPlain} {
			t.Run(tc.point+" "+tmpl, func(t *testing.T) {
				storetest.Each(t, func(t *testing.T, s *store.Store) {
					e := newEnv(t, s, envOptions{runners: 3, jobDuration: time.Hour})
					var kills atomic.Int32
					first := e.dispatcher(func(o *Options) {
						o.KillPoint = func(p string) bool {
							if p == tc.point {
								kills.Add(1)
								return true
							}
							return false
						}
					})
					e.reconcileRunners(first)
					var ids []int64
					for range 3 {
						ids = append(ids, e.enqueue(tmpl).ID)
					}
					if _, err := first.Pass(context.Background()); !errors.Is(err, ErrKilled) {
						t.Fatalf("pass = %v, want ErrKilled", err)
					}
					if kills.Load() != 3 {
						t.Fatalf("%d dispatches reached %s, want 3", kills.Load(), tc.point)
					}
					for _, id := range ids {
						j := e.job(id)
						if (j.Status == core.StatusDispatching) != tc.wantDispatching || (!tc.wantDispatching && j.RunID == 0) {
							t.Fatalf("job %d after the kill = %s run %d, want dispatching=%t", id, j.Status, j.RunID, tc.wantDispatching)
						}
					}

					// The restarted process: its reconcile resolves what the
					// dead one left, then passes dispatch what is pending.
					grace := 50 * time.Millisecond
					second := e.dispatcher(func(o *Options) { o.DispatchingGrace = grace })
					e.clock.Advance(grace)
					if err := second.ReconcileNow(context.Background()); err != nil {
						t.Fatalf("reconcile: %v", err)
					}
					e.pass(second)

					posts := e.dispatchPOSTs()
					if len(posts) != 3 {
						t.Fatalf("GitHub got %d dispatch requests for 3 jobs, want exactly 3", len(posts))
					}
					runs := map[int64]int64{}
					for _, id := range ids {
						j := e.job(id)
						if !j.Status.Active() || j.Status == core.StatusDispatching || j.RunID == 0 {
							t.Fatalf("job %d = %s run %d, want triggered or running with its run", id, j.Status, j.RunID)
						}
						if other, dup := runs[j.RunID]; dup {
							t.Fatalf("jobs %d and %d share run %d", other, id, j.RunID)
						}
						runs[j.RunID] = id
						if tmpl == tmplTitled {
							run, _ := e.sim.GetRun(j.RunID)
							if run.DisplayTitle != itoa(id) {
								t.Errorf("job %d adopted run %d titled %q, want its own run", id, j.RunID, run.DisplayTitle)
							}
						}
					}
				})
			})
		}
	}
}
