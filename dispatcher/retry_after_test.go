package dispatcher

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// A secondary limit's Retry-After shorter than the transient back-off is
// taken as given: GitHub said 3 s, so the job waits 3 s, not 30 s.
func TestShortRetryAfterIsTakenAsGiven(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1})
		d := e.dispatcher(func(o *Options) { o.TransientBackoff = 30 * time.Second })
		e.reconcileRunners(d)
		e.sim.SetFaults(ghsim.Faults{RESTSecondary: 1, RetryAfter: 3 * time.Second, Match: func(m, p string) bool {
			return m == http.MethodPost && strings.HasSuffix(p, "/dispatches")
		}})
		j := e.enqueue(tmplPlain)
		before := time.Now()
		if rep := e.pass(d); rep.Outcomes[OutcomeRetry] != 1 {
			t.Fatalf("pass = %+v, want one retry", rep)
		}
		got := e.job(j.ID)
		if got.Status != core.StatusPending || got.DispatchAfter == nil {
			t.Fatalf("job = %s dispatch_after %v, want pending with back-off", got.Status, got.DispatchAfter)
		}
		if wait := got.DispatchAfter.Sub(before); wait < 2900*time.Millisecond || wait > 5*time.Second {
			t.Fatalf("back-off = %s, want GitHub's Retry-After of 3s", wait)
		}
	})
}
