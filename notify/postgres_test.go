package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/netproxy"
)

func newPG(t *testing.T, dsn, id string) *Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := New(ctx, Options{DSN: dsn, ReplicaID: id, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)})
	if err != nil {
		t.Fatalf("new bus %s: %v", id, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestPostgresBus(t *testing.T) {
	ctx := context.Background()

	t.Run("event published on A arrives on B and not on A", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		a, b := newPG(t, dsn, "a"), newPG(t, dsn, "b")
		onA, onB := collect(t, a), collect(t, b)
		payload := json.RawMessage(`{"runner":"r1","busy":false}`)
		if err := a.Publish(ctx, Event{Kind: KindWake, GroupID: "sync-tests", JobID: 42, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		got := next(t, onB, 5*time.Second)
		if got.Kind != KindWake || got.GroupID != "sync-tests" || got.JobID != 42 || got.Replica != "a" || string(got.Payload) != string(payload) {
			t.Fatalf("b got %+v", got)
		}
		// PostgreSQL delivers notifications in commit order, so once A has
		// B's marker, its own earlier event would have arrived before it.
		if err := b.Publish(ctx, Event{Kind: KindQueue, GroupID: "marker"}); err != nil {
			t.Fatal(err)
		}
		if got := next(t, onA, 5*time.Second); got.GroupID != "marker" {
			t.Fatalf("a got its own event back: %+v", got)
		}
		none(t, onB, 100*time.Millisecond)
	})

	t.Run("payload over the limit arrives truncated but with its ids", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		a, b := newPG(t, dsn, "a"), newPG(t, dsn, "b")
		onB := collect(t, b)
		big := json.RawMessage(`{"log":"` + strings.Repeat("x", 20000) + `"}`)
		if err := a.Publish(ctx, Event{Kind: KindJob, GroupID: "g", JobID: 7, Payload: big}); err != nil {
			t.Fatalf("publish oversized: %v", err)
		}
		got := next(t, onB, 5*time.Second)
		if !got.Truncated || got.Payload != nil || got.Kind != KindJob || got.GroupID != "g" || got.JobID != 7 {
			t.Fatalf("b got %+v", got)
		}
	})

	t.Run("foreign notifications on the channel are ignored", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		b := newPG(t, dsn, "b")
		onB := collect(t, b)
		db := sqlx.MustOpen("postgres", dsn)
		defer db.Close()
		for _, raw := range []string{"not json", `{"job_id":1}`} {
			if _, err := db.Exec("SELECT pg_notify($1, $2)", DefaultChannel, raw); err != nil {
				t.Fatal(err)
			}
		}
		a := newPG(t, dsn, "a")
		_ = a.Publish(ctx, Event{Kind: KindWake})
		if got := next(t, onB, 5*time.Second); got.Kind != KindWake {
			t.Fatalf("b got %+v, want only the valid event", got)
		}
	})

	t.Run("listener survives pg_terminate_backend and emits resync", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		a, b := newPG(t, dsn, "a"), newPG(t, dsn, "b")
		onB := collect(t, b)
		db := sqlx.MustOpen("postgres", dsn)
		defer db.Close()
		var killed []bool
		// The listeners' last statement is their LISTEN; publishers never
		// run one.
		if err := db.Select(&killed, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		if len(killed) != 2 {
			t.Fatalf("terminated %d listener backends, want 2 (a and b)", len(killed))
		}
		if got := next(t, onB, 10*time.Second); got.Kind != KindResync {
			t.Fatalf("b got %+v, want resync", got)
		}
		if err := a.Publish(ctx, Event{Kind: KindWake, GroupID: "after"}); err != nil {
			t.Fatalf("publish after reconnect: %v", err)
		}
		if got := next(t, onB, 5*time.Second); got.GroupID != "after" {
			t.Fatalf("b got %+v after reconnecting", got)
		}
	})

	t.Run("a listener cut off silently is replaced and resyncs", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		px := netproxy.New(t, u.Host)
		u.Host = px.Addr()
		ctx10, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		logs := &logLines{}
		b, err := New(ctx10, Options{DSN: u.String(), ReplicaID: "b", PingInterval: 100 * time.Millisecond,
			PingTimeout: 300 * time.Millisecond, Logger: zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), logs))})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		onB := collect(t, b)
		a := newPG(t, dsn, "a")
		// Twice: the second cut proves health checks resumed on the new
		// connection.
		for round := 1; round <= 2; round++ {
			px.Freeze()
			// Published while b is cut off: lost to b, which is why it
			// must resync.
			_ = a.Publish(ctx, Event{Kind: KindJob, JobID: int64(round)})
			// Stay frozen until b noticed the silence and gave up on the
			// connection; thawing earlier would let the old one answer.
			waitLogged(t, logs, "listener ping unanswered", round, 10*time.Second)
			px.Thaw()
			var kinds []string
			deadline := time.After(10 * time.Second)
			for !slices.Contains(kinds, KindResync) {
				select {
				case ev := <-onB:
					kinds = append(kinds, ev.Kind)
				case <-deadline:
					t.Fatalf("round %d: no resync after the partition healed; got %v", round, kinds)
				}
			}
			group := fmt.Sprintf("after-%d", round)
			if err := a.Publish(ctx, Event{Kind: KindWake, GroupID: group}); err != nil {
				t.Fatal(err)
			}
			for {
				if ev := next(t, onB, 5*time.Second); ev.GroupID == group {
					break
				}
			}
		}
	})

	t.Run("publish fails clearly once closed", func(t *testing.T) {
		a := newPG(t, storetest.PostgresDSN(t), "a")
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Publish(ctx, Event{Kind: KindWake}); err == nil || !strings.Contains(err.Error(), "publish wake") {
			t.Fatalf("publish after close = %v", err)
		}
	})
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct{ name, dsn, channel, want string }{
		{"no dsn", "", "", "DSN is required"},
		{"channel with capitals or quotes", "postgres://x", `Events"; DROP`, "lower-case identifier"},
		{"channel over 63 bytes", "postgres://x", strings.Repeat("c", 64), "lower-case identifier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{DSN: tc.dsn, Channel: tc.channel})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want %q", err, tc.want)
			}
		})
	}
}

// logLines collects a logger's output so a test can wait for a message.
type logLines struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), msg)
}

// waitLogged waits until msg was logged at least n times.
func waitLogged(t *testing.T, logs *logLines, msg string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for logs.count(msg) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q logged %d times within %s, want %d", msg, logs.count(msg), within, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
