package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSessionLastSeenIsRecordedAtMostOncePerMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		start := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
		clk := &testClock{t: start}
		st.SetClock(clk.Now)
		h := newHarness(t, st, harnessOpts{options: func(o *Options) { o.Now = clk.Now }})
		admin := h.session("admin")
		hash := store.HashSecret(admin.cookie)
		lastSeen := func() time.Time {
			t.Helper()
			s, err := st.GetSession(context.Background(), hash)
			if err != nil {
				t.Fatal(err)
			}
			return s.LastSeenAt
		}
		for _, step := range []struct {
			name  string
			after time.Duration // since start
			path  string
			want  time.Duration // last_seen_at, since start
		}{
			{"a request right after login writes nothing", 0, "/api/v1/auth/me", 0},
			{"requests within the minute write nothing", 30 * time.Second, "/api/v1/groups", 0},
			{"the first request after a minute records it", 61 * time.Second, "/api/v1/auth/me", 61 * time.Second},
			{"and the next ones within a minute of that do not", 100 * time.Second, "/api/v1/auth/me", 61 * time.Second},
			{"an admin route records it as well", 122 * time.Second, "/api/v1/tokens", 122 * time.Second},
			{"and again once another minute has passed", 190 * time.Second, "/api/v1/auth/me", 190 * time.Second},
		} {
			t.Run(step.name, func(t *testing.T) {
				clk.Add(start.Add(step.after).Sub(clk.Now()))
				rec := h.do(admin, "GET", step.path, nil)
				if rec.Code >= 500 {
					t.Fatalf("%s: %d %s", step.path, rec.Code, rec.Body.String())
				}
				if got := lastSeen(); !got.Equal(start.Add(step.want)) {
					t.Fatalf("last_seen_at = +%s, want +%s", got.Sub(start), step.want)
				}
			})
		}
		t.Run("AuthorizeAdmin records use", func(t *testing.T) {
			clk.Add(2 * time.Minute)
			if err := h.srv.AuthorizeAdmin(h.request(admin, "GET", "/setup", nil)); err != nil {
				t.Fatal(err)
			}
			if got := lastSeen(); !got.Equal(clk.Now()) {
				t.Fatalf("last_seen_at = %s, want %s", got, clk.Now())
			}
		})
	})
}

func TestSessionTouchesLetOneOfABurstWrite(t *testing.T) {
	tt := newSessionTouches()
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	stale := now.Add(-5 * time.Minute)
	h := store.HashSecret("session")
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if tt.due(h, stale, now) {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of a concurrent burst wrote last_seen_at, want exactly 1", won.Load())
	}
	if tt.due(store.HashSecret("other"), stale, now) != true {
		t.Fatal("another session's touch was suppressed")
	}
	if tt.due(h, stale, now.Add(sessionTouchInterval)) != true {
		t.Fatal("no touch a full interval later")
	}
	tt.prune(now.Add(3 * sessionTouchInterval))
	if len(tt.last) != 0 {
		t.Fatalf("prune kept %d stale claims", len(tt.last))
	}
}
