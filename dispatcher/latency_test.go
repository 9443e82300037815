package dispatcher

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// latencyWorld shapes the world idleToDispatch measures in.
type latencyWorld struct {
	// runners serve the queue; default 1.
	runners int
	// dispatchLatency is how long GitHub takes to answer a dispatch
	// request (real GitHub: hundreds of milliseconds). It is subtracted
	// from the measurement, which is taken when GitHub has answered.
	dispatchLatency time.Duration
}

// idleToDispatch measures, from the simulator's own records, how long after
// a runner-idle webhook (workflow_job completed) left GitHub the next
// dispatch request arrived at GitHub. With one runner serving a long queue
// every dispatch but the first is caused by exactly one such webhook; with
// more, a dispatch is attributed to the latest one before it.
func idleToDispatch(t testing.TB, s *store.Store, jobs int) []time.Duration {
	return idleToDispatchIn(t, s, jobs, latencyWorld{})
}

func idleToDispatchIn(t testing.TB, s *store.Store, jobs int, w latencyWorld) []time.Duration {
	w.runners = max(w.runners, 1)
	// Runs last long enough for step 3 (triggered with the run id) to commit
	// before the run's completion webhook arrives; a faster run would be
	// left to the reconciler's overdue re-read, which is not measured here.
	e := newEnv(t, s, envOptions{runners: w.runners, jobDuration: 100 * time.Millisecond})
	if w.dispatchLatency > 0 {
		e.sim.SetFaults(ghsim.Faults{Latency: w.dispatchLatency, Match: func(method, path string) bool {
			return method == "POST" && strings.HasSuffix(path, "/dispatches")
		}})
	}
	d := e.dispatcher(nil)
	for range jobs {
		e.enqueue(tmplPlain)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = d.Run(ctx)
	}()
	e.waitFor("every job finished", 20*time.Second, func() bool {
		return len(e.jobsIn(core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)) == 0
	})
	cancel()
	wg.Wait()

	posts := e.dispatchPOSTs()
	if len(posts) != jobs {
		t.Fatalf("%d dispatch requests for %d jobs, want one each", len(posts), jobs)
	}
	var idle []time.Time
	for _, dl := range e.sim.Deliveries() {
		if dl.Event == "workflow_job" && dl.Action == "completed" {
			idle = append(idle, dl.DeliveredAt.Add(-dl.Duration)) // when it was sent
		}
	}
	var out []time.Duration
	for _, p := range posts[w.runners:] {
		p.Time = p.Time.Add(-w.dispatchLatency)
		var cause time.Time
		for _, at := range idle {
			if !at.After(p.Time) && at.After(cause) {
				cause = at
			}
		}
		if cause.IsZero() {
			t.Fatalf("dispatch at %s has no runner-idle webhook before it", p.Time)
		}
		out = append(out, p.Time.Sub(cause))
	}
	slices.Sort(out)
	return out
}

func TestIdleRunnerDispatchedWithinMilliseconds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		lat := idleToDispatch(t, s, 40)
		p50, p90, p99 := lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)*99/100]
		t.Logf("runner-idle webhook sent -> dispatch request at GitHub: p50 %s, p90 %s, p99 %s (n=%d)",
			p50, p90, p99, len(lat))
		// Generous for -race on a loaded shared machine (the tail is CPU
		// contention); the point is that no poll or sleep sits on the path:
		// the safety tick is an hour here, so a lost wake-up would show.
		if p50 > 100*time.Millisecond || p90 > 500*time.Millisecond {
			t.Fatalf("idle -> dispatch p50 %s p90 %s: too slow for an event-driven path", p50, p90)
		}
	})
}

// BenchmarkIdleToDispatch reports the runner-idle webhook -> dispatch
// latency percentiles on SQLite (go test -run '^$' -bench IdleToDispatch).
func BenchmarkIdleToDispatch(b *testing.B) {
	var all []time.Duration
	for b.Loop() {
		all = append(all, idleToDispatch(b, storetest.SQLite(b), 100)...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkIdleToDispatchSlowGitHub is the same with four runners and a
// GitHub that takes 40ms to answer a dispatch, so runner-idle webhooks
// arrive while other dispatches are still waiting for GitHub.
func BenchmarkIdleToDispatchSlowGitHub(b *testing.B) {
	var all []time.Duration
	for b.Loop() {
		all = append(all, idleToDispatchIn(b, storetest.SQLite(b), 100,
			latencyWorld{runners: 4, dispatchLatency: 40 * time.Millisecond})...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

// A burst of wake-ups is one pass, and a wake-up during a pass is served by
// exactly one more.
func TestWakeCoalescesAndIsNeverLost(t *testing.T) {
	d, err := New(withConfigDefaults(Options{Store: storetest.SQLite(t), Queue: newTestQueue(t), GitHub: nilGitHub{}}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() { defer wg.Done(); d.Wake("burst") }()
	}
	wg.Wait()
	if n := len(d.wake); n != 1 {
		t.Fatalf("%d pending wake signals after a burst, want 1", n)
	}
	<-d.wake // the loop starts a pass
	at, reason := d.takeWake()
	if at.IsZero() || reason != "burst" {
		t.Fatalf("takeWake = %v %q, want the burst's first wake-up", at, reason)
	}
	d.Wake("during the pass")
	if n := len(d.wake); n != 1 {
		t.Fatalf("a wake-up during a pass left %d signals, want 1 (one more pass)", n)
	}
}

func TestScheduleScopeDebounces(t *testing.T) {
	d, err := New(withConfigDefaults(Options{Store: storetest.SQLite(t), Queue: newTestQueue(t), GitHub: nilGitHub{}}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 10 {
		d.ScheduleScope("org:acme", 50*time.Millisecond)
	}
	d.ScheduleScope("org:acme", 400*time.Millisecond) // "once more a little later"
	d.ScheduleScope("repo:acme/infra", 50*time.Millisecond)
	if got := nextDue(t, d, 2); !slices.Equal(got, []string{"org:acme", "repo:acme/infra"}) {
		t.Fatalf("due scopes = %v, want each scope once", got)
	}
	if got := nextDue(t, d, 1); !slices.Equal(got, []string{"org:acme"}) {
		t.Fatalf("later due scopes = %v, want org:acme once more", got)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Fatalf("org:acme came due again after %s, want the later request's 400ms (the burst is one listing)", took)
	}
}

// nilGitHub is a GitHub for tests that must not reach it: any call panics.
type nilGitHub struct{ GitHub }

func newTestQueue(t *testing.T) *queue.Service {
	q, err := queue.New(queue.Options{Store: storetest.SQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// nextDue waits until at least n scopes came due and returns them, sorted.
func nextDue(t *testing.T, d *Dispatcher, n int) []string {
	t.Helper()
	deadline := time.After(2 * time.Second)
	due := map[string]bool{}
	for len(due) < n {
		select {
		case <-d.scoped:
			for _, s := range d.takeDueScopes() {
				due[s] = true
			}
		case <-deadline:
			t.Fatalf("scheduled scopes never came due (got %v, want %d)", due, n)
		}
	}
	return slices.Sorted(maps.Keys(due))
}

// The durations the config file exposes have their defaults there only: a
// caller that leaves one zero is refused rather than run on a second set.
func TestNewRefusesMissingConfigDurations(t *testing.T) {
	base := withConfigDefaults(Options{Store: storetest.SQLite(t), Queue: newTestQueue(t), GitHub: nilGitHub{}})
	if _, err := New(base); err != nil {
		t.Fatalf("New with the config's defaults: %v", err)
	}
	for name, zero := range map[string]func(*Options){
		"interval":           func(o *Options) { o.Interval = 0 },
		"reconcile interval": func(o *Options) { o.ReconcileInterval = 0 },
		"start timeout":      func(o *Options) { o.StartTimeout = 0 },
		"dispatching grace":  func(o *Options) { o.DispatchingGrace = -time.Second },
		"overdue after":      func(o *Options) { o.OverdueAfter = 0 },
		"redeliver interval": func(o *Options) { o.RedeliverInterval = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			opts := base
			zero(&opts)
			if _, err := New(opts); err == nil {
				t.Fatal("New accepted a zero duration the config must supply")
			}
		})
	}
}
