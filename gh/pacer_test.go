package gh_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// 120 dispatches at once against GitHub's documented secondary limits: the
// pacer lets the 80 a minute allows go at once and holds the rest, so
// GitHub refuses nothing. Without it, GitHub refuses the excess.
func TestPacerKeepsABurstUnderTheSecondaryLimits(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pace         gh.PaceLimits
		wantRefusals bool
	}{
		{"unpaced, GitHub refuses the excess", gh.PaceLimits{}, true},
		{"paced, GitHub refuses nothing", gh.DefaultPaceLimits(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{sim: ghsim.Options{SecondaryLimits: ghsim.DefaultSecondaryLimits()}, pace: tc.pace})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var sent, held atomic.Int32
			var wg sync.WaitGroup
			for range 120 {
				wg.Go(func() {
					_, err := w.client.Dispatch(ctx, dispatchReq(w))
					switch {
					case err == nil:
						sent.Add(1)
					case errors.Is(err, context.Canceled):
						held.Add(1)
					}
				})
			}
			deadline := time.Now().Add(20 * time.Second)
			for sent.Load()+int32(w.sim.SecondaryRefusals()) < 80 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if tc.wantRefusals {
				wg.Wait()
				if w.sim.SecondaryRefusals() == 0 {
					t.Fatal("120 unpaced dispatches were all accepted: the simulator does not enforce the limit")
				}
				return
			}
			// The held ones wait for the window to move (a minute); give
			// them a moment to be queued, then give up on them.
			for w.client.PaceWaiting()[gh.PriorityDispatch] < 40 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			wg.Wait()
			if sent.Load() != 80 || held.Load() != 40 || w.sim.SecondaryRefusals() != 0 {
				t.Fatalf("sent %d, held %d, refused by GitHub %d; want 80, 40, 0", sent.Load(), held.Load(), w.sim.SecondaryRefusals())
			}
			if n := len(w.requests("POST", "/dispatches")); n != 80 {
				t.Fatalf("%d dispatches reached GitHub, want 80 (a held request that gave up is never sent)", n)
			}
		})
	}
}

// GitHub's Retry-After is honoured as given: after a refusal with
// Retry-After: 2 the installation's next request is held about 2 s (by
// go-github's own memory of the block, or the pacer's), not a back-off of
// our own choosing, and is sent once the 2 s are over.
func TestRetryAfterIsHonouredAsGiven(t *testing.T) {
	w := newWorld(t, worldOpts{pace: gh.DefaultPaceLimits()})
	var fired atomic.Bool
	w.sim.SetFaults(ghsim.Faults{RESTSecondary: 1, RetryAfter: 2 * time.Second, Match: func(m, p string) bool {
		return m == "POST" && strings.HasSuffix(p, "/dispatches") && !fired.Swap(true)
	}})
	_, err := w.client.Dispatch(context.Background(), dispatchReq(w))
	refusedAt := time.Now()
	if err == nil || gh.RetryAfter(err) != 2*time.Second {
		t.Fatalf("first dispatch: %v (retry after %s), want a secondary-limit refusal asking for 2s", err, gh.RetryAfter(err))
	}
	_, err = w.client.Dispatch(context.Background(), dispatchReq(w))
	if ra := gh.RetryAfter(err); err == nil || ra < 1500*time.Millisecond || ra > 2*time.Second {
		t.Fatalf("dispatch during the block: %v (retry after %s), want held for the rest of the 2s", err, ra)
	}
	if n := len(w.requests("POST", "/dispatches")); n != 1 {
		t.Fatalf("%d dispatches reached GitHub during the block, want only the refused one", n)
	}
	time.Sleep(time.Until(refusedAt.Add(2100 * time.Millisecond)))
	if _, err := w.client.Dispatch(context.Background(), dispatchReq(w)); err != nil {
		t.Fatalf("dispatch after the block: %v", err)
	}
}
