package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// scans counts the requests for a page of the App's webhook deliveries.
func (e *env) scans() int {
	return len(e.sim.Requests(func(r ghsim.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/app/hook/deliveries")
	}))
}

func (m *metricsRecorder) redeliveredCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.redelivered
}

// installation is the App's installation on acme.
func (e *env) installation() int64 {
	e.t.Helper()
	in, err := e.gh.InstallationForOwner(context.Background(), "acme")
	if err != nil {
		e.t.Fatal(err)
	}
	return in.ID
}

func (e *env) reconcileNow(d *Dispatcher) {
	e.t.Helper()
	if err := d.ReconcileNow(context.Background()); err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	if err := e.sim.WaitIdle(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func TestDeliveryScanCadence(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), envOptions{runners: 1})
	clock := newTestClock()
	d := e.dispatcher(func(o *Options) { o.RedeliverWindow = time.Hour; o.Now = clock.Now })
	// Reconciles every 5 minutes for 65 minutes; the scan count after
	// each one.
	var got []int
	for range 14 {
		e.reconcileNow(d)
		got = append(got, e.scans())
		clock.Advance(5 * time.Minute)
	}
	want := []int{1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("scans after each reconcile = %v, want %v (at start, then every redeliver_interval)", got, want)
		}
	}
	if e.metrics.redeliveredCount() != 0 {
		t.Fatal("redelivered something in a world where every webhook arrived")
	}
}

// Evidence that webhooks were lost makes the next reconcile scan, long
// before redeliver_interval; a reconcile that finds everything as the
// webhooks said does not.
func TestLostWebhooksMakeTheNextReconcileScan(t *testing.T) {
	tests := []struct {
		name string
		// foreign: someone else's hour-long run, not a job of ours, keeps
		// the runner busy, so only the listing can tell; else our job's
		// brief run completes and only re-reading the run can tell.
		foreign   bool
		loseHooks bool
		wantScan  bool
	}{
		{"runner the listing shows busy while we think it idle", true, true, true},
		{"run re-read as completed while we think it triggered", false, true, true},
		{"every webhook arrived: no early scan", false, false, false},
		{"every webhook of a foreign run arrived: no early scan", true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), envOptions{runners: 1, jobDuration: 20 * time.Millisecond})
			clock := newTestClock()
			d := e.dispatcher(func(o *Options) { o.RedeliverWindow = time.Hour; o.Now = clock.Now })
			ctx := context.Background()
			e.reconcileNow(d) // the start's scan
			e.failHooks.Store(tc.loseHooks)
			var done func() bool
			if tc.foreign {
				res, err := e.gh.Dispatch(ctx, gh.DispatchRequest{InstallationID: e.installation(), Owner: "acme", Repo: "infra",
					WorkflowID: "long.yml", Ref: "main"})
				if err != nil {
					t.Fatal(err)
				}
				e.waitFor("the foreign run to start", 5*time.Second, func() bool {
					r, _ := e.sim.GetRun(res.RunID)
					return r.Status == ghsim.StatusInProgress
				})
				done = func() bool {
					r, err := e.store.GetRunner(ctx, e.runners[0])
					return err == nil && r.Busy
				}
			} else {
				j := e.enqueue(tmplPlain)
				e.pass(d)
				e.waitFor("the run to complete", 5*time.Second, func() bool {
					r, _ := e.sim.GetRun(e.job(j.ID).RunID)
					return r.Status == ghsim.StatusCompleted
				})
				done = func() bool { return e.job(j.ID).Status == core.StatusCompleted }
			}
			if err := e.sim.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			e.failHooks.Store(false)
			before := e.scans()
			clock.Advance(5 * time.Minute)
			e.reconcileNow(d)
			if scanned := e.scans() > before; scanned != tc.wantScan {
				t.Fatalf("scanned = %t after the reconcile, want %t", scanned, tc.wantScan)
			}
			if tc.wantScan && e.metrics.redeliveredCount() == 0 {
				t.Fatal("the scan redelivered none of the lost webhooks")
			}
			e.waitFor("the world to be repaired", 5*time.Second, done)
			// The evidence is spent: the following reconcile does not scan.
			before = e.scans()
			clock.Advance(5 * time.Minute)
			e.reconcileNow(d)
			if n := e.scans() - before; n != 0 {
				t.Fatalf("the reconcile after the early scan scanned %d pages", n)
			}
		})
	}
}

// A scan that finds nothing new reads one page and redelivers nothing,
// however many deliveries the window holds; a capped scan leaves the rest
// to the very next reconcile.
func TestRescanReadsOnlyWhatIsNew(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), envOptions{runners: 1, jobDuration: 20 * time.Millisecond})
	clock := newTestClock()
	d := e.dispatcher(func(o *Options) { o.RedeliverWindow = time.Hour; o.MaxRedeliveries = 2; o.Now = clock.Now })
	e.failHooks.Store(true)
	_, failed := runWithFailedDeliveries(t, e, d, 2)
	e.failHooks.Store(false)
	attempts := func() int { return e.sim.CountRequests(http.MethodPost, "/attempts") }
	for sent := 0; sent < failed; {
		e.reconcileNow(d) // no time passes: only leftovers make it scan
		n := attempts()
		if n-sent != min(2, failed-sent) {
			t.Fatalf("a scan sent %d redeliveries with %d left, want %d", n-sent, failed-sent, min(2, failed-sent))
		}
		sent = n
	}
	clock.Advance(30 * time.Minute)
	pages, sent := e.scans(), attempts()
	e.reconcileNow(d)
	if n := e.scans() - pages; n != 1 {
		t.Fatalf("a scan with nothing new read %d pages, want 1", n)
	}
	if n := attempts() - sent; n != 0 {
		t.Fatalf("a scan with nothing new redelivered %d", n)
	}
}

// deliveriesFake is the GitHub a scan sees: failed deliveries, newest
// first, and what was asked of it. Only the two calls a scan makes are
// implemented.
type deliveriesFake struct {
	GitHub
	mu         sync.Mutex
	failed     []gh.Delivery // newest first
	listErr    error
	redeliverr map[int64]error
	sinces     []time.Time
	sent       []int64
}

func (f *deliveriesFake) ListFailedDeliveries(_ context.Context, since time.Time) ([]gh.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinces = append(f.sinces, since)
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []gh.Delivery
	for _, d := range f.failed {
		if !d.DeliveredAt.Before(since) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *deliveriesFake) Redeliver(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.redeliverr[id]; err != nil {
		return err
	}
	f.sent = append(f.sent, id)
	return nil
}

func TestSweepRemembersWhereItStopped(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	// Five failed deliveries a minute apart, the newest first.
	failed := func() []gh.Delivery {
		var out []gh.Delivery
		for i := int64(5); i >= 1; i-- {
			out = append(out, gh.Delivery{ID: i, GUID: fmt.Sprintf("g%d", i), Event: "workflow_job",
				DeliveredAt: t0.Add(time.Duration(i) * time.Minute)})
		}
		return out
	}
	newSweeper := func(t *testing.T, f *deliveriesFake, clock *testClock, maxSent int) *Dispatcher {
		s := storetest.SQLite(t)
		q, err := queue.New(queue.Options{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(withConfigDefaults(Options{Store: s, Queue: q, GitHub: f, Now: clock.Now, MaxRedeliveries: maxSent}))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	scan := func(t *testing.T, d *Dispatcher) error {
		t.Helper()
		return d.redeliver(context.Background())
	}

	t.Run("first scan reads the window, later ones from just before the last", func(t *testing.T) {
		f := &deliveriesFake{failed: failed()}
		clock := &testClock{now: t0.Add(10 * time.Minute)}
		d := newSweeper(t, f, clock, 50)
		if err := scan(t, d); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.sent, []int64{1, 2, 3, 4, 5}) {
			t.Fatalf("redelivered %v, want all five oldest first", f.sent)
		}
		clock.Advance(29 * time.Minute)
		if err := scan(t, d); err != nil || len(f.sinces) != 1 {
			t.Fatalf("scanned again before redeliver_interval (err %v, scans %d)", err, len(f.sinces))
		}
		clock.Advance(time.Minute)
		if err := scan(t, d); err != nil {
			t.Fatal(err)
		}
		want := []time.Time{t0.Add(10*time.Minute - time.Hour), t0.Add(10*time.Minute - deliveryOverlap)}
		if !slices.Equal(f.sinces, want) {
			t.Fatalf("scans asked since %v, want %v", f.sinces, want)
		}
		if len(f.sent) != 5 {
			t.Fatalf("the second scan redelivered again: %v", f.sent)
		}
	})
	t.Run("a capped scan leaves the rest to the next reconcile", func(t *testing.T) {
		f := &deliveriesFake{failed: failed()}
		clock := &testClock{now: t0.Add(10 * time.Minute)}
		d := newSweeper(t, f, clock, 2)
		for range 3 {
			if err := scan(t, d); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(f.sent, []int64{1, 2, 3, 4, 5}) {
			t.Fatalf("redelivered %v over three capped scans, want all five once, oldest first", f.sent)
		}
		// Each scan started from the oldest delivery left over.
		want := []time.Time{t0.Add(10*time.Minute - time.Hour), t0.Add(3 * time.Minute), t0.Add(5 * time.Minute)}
		if !slices.Equal(f.sinces, want) {
			t.Fatalf("scans asked since %v, want %v", f.sinces, want)
		}
		if err := scan(t, d); err != nil || len(f.sinces) != 3 {
			t.Fatalf("scanned with nothing left over and no interval elapsed (err %v, scans %d)", err, len(f.sinces))
		}
	})
	t.Run("a transient refusal is tried again at the next reconcile", func(t *testing.T) {
		f := &deliveriesFake{failed: failed(), redeliverr: map[int64]error{
			3: &gh.APIError{Status: http.StatusBadGateway, Endpoint: "POST /app/hook/deliveries/{delivery_id}/attempts"},
		}}
		clock := &testClock{now: t0.Add(10 * time.Minute)}
		d := newSweeper(t, f, clock, 50)
		if err := scan(t, d); err == nil {
			t.Fatal("a 502 from GitHub was not reported")
		}
		if !slices.Equal(f.sent, []int64{1, 2}) {
			t.Fatalf("redelivered %v, want 1 and 2, then a stop at the 502", f.sent)
		}
		delete(f.redeliverr, 3)
		if err := scan(t, d); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.sent, []int64{1, 2, 3, 4, 5}) || f.sinces[1] != t0.Add(3*time.Minute) {
			t.Fatalf("redelivered %v since %v, want the rest from delivery 3 on", f.sent, f.sinces[1])
		}
	})
	t.Run("a failed listing is tried again at the next reconcile", func(t *testing.T) {
		f := &deliveriesFake{failed: failed(), listErr: errors.New("GitHub is down")}
		clock := &testClock{now: t0.Add(10 * time.Minute)}
		d := newSweeper(t, f, clock, 50)
		if err := scan(t, d); err == nil {
			t.Fatal("a failed listing was not reported")
		}
		f.listErr = nil
		clock.Advance(5 * time.Minute)
		if err := scan(t, d); err != nil {
			t.Fatal(err)
		}
		if len(f.sinces) != 2 || len(f.sent) != 5 {
			t.Fatalf("after a failed listing: %d scans, %d redelivered; want 2 and 5", len(f.sinces), len(f.sent))
		}
	})
	t.Run("a permanent refusal is not asked again", func(t *testing.T) {
		f := &deliveriesFake{failed: failed(), redeliverr: map[int64]error{
			5: &gh.APIError{Status: http.StatusUnprocessableEntity, Endpoint: "POST /app/hook/deliveries/{delivery_id}/attempts"},
		}}
		// A minute after the newest: the next scan's overlap lists it again.
		clock := &testClock{now: t0.Add(6 * time.Minute)}
		d := newSweeper(t, f, clock, 50)
		if err := scan(t, d); !gh.IsPermanent(err) {
			t.Fatalf("want the 422 reported, got %v", err)
		}
		d.noteLostWebhooks("test")
		if err := scan(t, d); err != nil {
			t.Fatalf("the second scan asked for the refused delivery again: %v", err)
		}
		if !slices.Equal(f.sent, []int64{1, 2, 3, 4}) || len(f.sinces) != 2 {
			t.Fatalf("redelivered %v in %d scans, want every one but the refused 5, in 2", f.sent, len(f.sinces))
		}
	})
}

// redeliver_interval is the longest time between two scans whatever
// reconcile_interval is: a failed workflow_run completed is redelivered,
// and its job finished, within redeliver_interval while the next reconcile
// is an hour away.
func TestRedeliverIntervalHonouredBetweenReconciles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const interval = 3 * time.Second
		e := newEnv(t, s, envOptions{runners: 1, jobDuration: 20 * time.Millisecond})
		d := e.dispatcher(func(o *Options) {
			o.RedeliverWindow, o.RedeliverInterval = time.Hour, interval
			o.ReconcileInterval = time.Hour
		})
		e.failHooks.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		e.waitFor("the start-up reconcile's scan", 5*time.Second, func() bool { return e.scans() == 1 })
		j := e.enqueue(tmplPlain)
		e.waitFor("the run to complete on GitHub", 5*time.Second, func() bool {
			r, ok := e.sim.GetRun(e.job(j.ID).RunID)
			return ok && r.Status == ghsim.StatusCompleted
		})
		if err := e.sim.WaitIdle(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.scans(); n != 1 {
			t.Fatalf("%d scans before the receiver came back; the test needs the deliveries to fail between two scans", n)
		}
		if got := e.job(j.ID).Status; got.Terminal() {
			t.Fatalf("job %s although every webhook failed", got)
		}
		failedAt := time.Now()
		e.failHooks.Store(false)
		// The scan itself is what redeliver_interval promises; applying
		// what it redelivers then takes the simulator a moment more.
		e.waitFor("the next scan", interval+time.Second, func() bool { return e.scans() >= 2 })
		scanned := time.Since(failedAt)
		e.waitFor("the failed completion to be redelivered", 5*time.Second, func() bool {
			return e.job(j.ID).Status == core.StatusCompleted
		})
		t.Logf("scanned %s and job completed %s after its webhooks failed (redeliver_interval %s, reconcile_interval 1h)",
			scanned.Round(time.Millisecond), time.Since(failedAt).Round(time.Millisecond), interval)
		if e.metrics.redeliveredCount() == 0 {
			t.Fatal("job completed without a redelivery")
		}
	})
}
