package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// countingStore is the real store, counting the whole-table reads behind
// the gauges. When gate is set, RunnerCounts waits for it (or its context).
type countingStore struct {
	*store.Store
	runnerReads atomic.Int64
	queueReads  atomic.Int64
	gate        chan struct{}
	// cancelled is set when a gated read gave up because its context ended;
	// returned once that read has returned.
	cancelled atomic.Bool
	returned  atomic.Bool
}

func (c *countingStore) RunnerCounts(ctx context.Context) (int, int, error) {
	c.runnerReads.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			c.cancelled.Store(true)
			// Give a Close that does not wait a chance to return first.
			time.Sleep(50 * time.Millisecond)
			c.returned.Store(true)
			return 0, 0, ctx.Err()
		}
	}
	return c.Store.RunnerCounts(ctx)
}

func (c *countingStore) QueueCounts(ctx context.Context) ([]store.QueueCount, error) {
	c.queueReads.Add(1)
	return c.Store.QueueCounts(ctx)
}

func metricsText(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func waitForMetrics(t *testing.T, m *metrics.Metrics, want ...string) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second) // generous: the machine may be loaded
	defer deadline.Stop()
	for {
		text := metricsText(t, m)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w+"\n") {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("metric %q never appeared:\n%s", missing, grep(text, "dispatchoor_"))
		case <-time.After(10 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
}

// hubClient connects a WebSocket client straight to the hub (no auth: the
// hub, not the routes, is under test).
func hubClient(t *testing.T, h *Hub) *websocket.Conn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.m.HandleRequest(w, r)
	}))
	t.Cleanup(srv.Close)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	waitFor(t, func() bool { return h.Clients() > 0 })
	return conn
}

func seedInstallation(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.SyncConfig(ctx, []core.Group{
		{ID: testGroup, Name: "Group One", RunnerLabels: []string{"self-hosted", "one"}, Enabled: true},
		{ID: otherGroup, Name: "Group Two", RunnerLabels: []string{"self-hosted", "two"}, Enabled: true},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertInstallation(ctx, store.Installation{ID: 7, AccountLogin: "my-org", AccountType: "Organization", RepositorySelection: "all"}); err != nil {
		t.Fatal(err)
	}
}

// readsBound is what coalescing allows for a burst that took elapsed: one
// leading read, one per spacing while it lasted, and one trailing read.
func readsBound(elapsed, spacing time.Duration) int64 {
	return int64(elapsed/spacing) + 2
}

func TestRunnerGaugesCoalesceBursts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seedInstallation(t, st)
		const n = 1000
		listing := make([]core.Runner, n)
		for i := range listing {
			status := core.RunnerOnline
			if i%10 == 9 {
				status = core.RunnerOffline
			}
			listing[i] = core.Runner{ID: int64(i + 1), Name: fmt.Sprintf("r%d", i+1), Scope: "org:my-org", Labels: []string{"one"}, Status: status}
		}
		if _, err := st.ReplaceScopeRunners(ctx, store.ScopeListing{Scope: "org:my-org", InstallationID: 7, Runners: listing}); err != nil {
			t.Fatal(err)
		}
		cs := &countingStore{Store: st}
		m := metrics.New()
		const spacing = 300 * time.Millisecond
		h := New(Options{Store: cs, Metrics: m, RefreshSpacing: spacing})
		defer h.Close()

		online, busy := 0, 0
		began := time.Now()
		for i, r := range listing {
			if r.Status == core.RunnerOnline {
				online++
				if i%3 == 0 {
					if _, err := st.MarkRunnerBusy(ctx, r.ID, int64(10_000+i)); err != nil {
						t.Fatal(err)
					}
					r.Busy = true
					busy++
				}
			}
			h.RunnerChanged(r)
		}
		elapsed := time.Since(began)
		waitForMetrics(t, m,
			fmt.Sprintf("dispatchoor_runners_online %d", online),
			fmt.Sprintf("dispatchoor_runners_busy %d", busy),
			fmt.Sprintf("dispatchoor_runners_idle %d", online-busy))
		// Settled: no read is still to come, and none loops.
		time.Sleep(3 * spacing)
		reads := cs.runnerReads.Load()
		if bound := readsBound(elapsed, spacing); reads > bound {
			t.Fatalf("%d runner changes over %v caused %d store reads, want at most %d", n, elapsed, reads, bound)
		}
		if reads == 0 {
			t.Fatal("the gauges were set without reading the store")
		}
		t.Logf("%d runner changes over %v: %d reads of every runner", n, elapsed.Round(time.Millisecond), reads)
	})
}

func TestQueueUpdatesCoalesceBursts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seedInstallation(t, st)
		cs := &countingStore{Store: st}
		m := metrics.New()
		const spacing = 300 * time.Millisecond
		h := New(Options{Store: cs, Metrics: m, RefreshSpacing: spacing})
		defer h.Close()
		conn := hubClient(t, h)
		if err := conn.WriteJSON(map[string]any{"subscribe": []string{testGroup, otherGroup}}); err != nil {
			t.Fatal(err)
		}
		readMsg(t, conn, "subscribed")

		var mu sync.Mutex
		last := map[string]float64{} // pending count in each group's latest queue_update
		go func() {
			for {
				_, b, err := conn.ReadMessage()
				if err != nil {
					return
				}
				var msg struct {
					Type    string `json:"type"`
					GroupID string `json:"group_id"`
					Data    struct {
						Counts map[string]float64 `json:"counts"`
					} `json:"data"`
				}
				if json.Unmarshal(b, &msg) == nil && msg.Type == MsgQueueUpdate {
					mu.Lock()
					last[msg.GroupID] = msg.Data.Counts["pending"]
					mu.Unlock()
				}
			}
		}()

		const n = 1000
		want := map[string]int{}
		began := time.Now()
		for i := range n {
			g := testGroup
			if i%4 == 0 {
				g = otherGroup
			}
			if _, err := st.InsertJob(ctx, core.Job{GroupID: g, Name: "j", Owner: "my-org", Repo: "tests", WorkflowID: "ci.yml", Ref: "main", Source: core.JobSourceAPI}, store.Placement{}); err != nil {
				t.Fatal(err)
			}
			want[g]++
			h.QueueChanged(g)
		}
		elapsed := time.Since(began)
		waitForMetrics(t, m,
			fmt.Sprintf(`dispatchoor_queue_size{group=%q,status="pending"} %d`, testGroup, want[testGroup]),
			fmt.Sprintf(`dispatchoor_queue_size{group=%q,status="pending"} %d`, otherGroup, want[otherGroup]),
			fmt.Sprintf(`dispatchoor_queue_size{group=%q,status="running"} 0`, testGroup))
		waitFor(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return last[testGroup] == float64(want[testGroup]) && last[otherGroup] == float64(want[otherGroup])
		})
		time.Sleep(3 * spacing)
		reads := cs.queueReads.Load()
		if bound := readsBound(elapsed, spacing); reads > bound {
			t.Fatalf("%d queue changes over %v caused %d scans of the live jobs, want at most %d", n, elapsed, reads, bound)
		}
		t.Logf("%d queue changes over %v: %d scans of the live jobs", n, elapsed.Round(time.Millisecond), reads)
	})
}

// runner_status carries the runner itself; it must not wait for the gauge
// read, which here is held until the messages have arrived.
func TestRunnerStatusIsNotDelayedByTheGaugeRead(t *testing.T) {
	st := storetest.SQLite(t)
	seedInstallation(t, st)
	cs := &countingStore{Store: st, gate: make(chan struct{})}
	m := metrics.New()
	h := New(Options{Store: cs, Metrics: m, RefreshSpacing: 50 * time.Millisecond})
	defer h.Close()
	conn := hubClient(t, h)

	const n = 50
	for i := range n {
		h.RunnerChanged(core.Runner{ID: int64(i + 1), Name: fmt.Sprintf("r%d", i+1), Status: core.RunnerOnline})
	}
	for i := range n {
		m := readMsg(t, conn, MsgRunnerStatus)
		if id := m.Data.(map[string]any)["id"]; id != float64(i+1) {
			t.Fatalf("runner_status %d is for runner %v", i, id)
		}
	}
	if reads := cs.runnerReads.Load(); reads != 1 {
		t.Fatalf("%d gauge reads in flight while the first is held, want 1", reads)
	}
	if _, err := st.UpsertRunnerSeen(context.Background(), store.RunnerRecord{Runner: core.Runner{ID: 1, Name: "r1", Scope: "org:my-org"}}); err != nil {
		t.Fatal(err)
	}
	close(cs.gate)
	// The changes made while the read was held are covered by one more.
	waitForMetrics(t, m, "dispatchoor_runners_online 1", "dispatchoor_runners_idle 1")
	waitFor(t, func() bool { return cs.runnerReads.Load() == 2 })
}

func TestCloseStopsTheRefreshers(t *testing.T) {
	st := storetest.SQLite(t)
	cs := &countingStore{Store: st, gate: make(chan struct{})}
	const spacing = 20 * time.Millisecond
	h := New(Options{Store: cs, RefreshSpacing: spacing})
	h.RunnerChanged(core.Runner{ID: 1})
	waitFor(t, func() bool { return cs.runnerReads.Load() == 1 })

	closed := make(chan struct{})
	go func() {
		_ = h.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a gauge read was in flight")
	}
	if !cs.cancelled.Load() || !cs.returned.Load() {
		t.Fatalf("Close returned before the in-flight read was cancelled (%v) and had returned (%v)", cs.cancelled.Load(), cs.returned.Load())
	}
	runnerReads, queueReads := cs.runnerReads.Load(), cs.queueReads.Load()
	for range 10 {
		h.RunnerChanged(core.Runner{ID: 2})
		h.QueueChanged(testGroup)
	}
	time.Sleep(10 * spacing)
	if cs.runnerReads.Load() != runnerReads || cs.queueReads.Load() != queueReads {
		t.Fatalf("reads after Close: runners %d→%d, queues %d→%d", runnerReads, cs.runnerReads.Load(), queueReads, cs.queueReads.Load())
	}
}
