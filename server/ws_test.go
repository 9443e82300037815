package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/hub"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// wsMessage is what the hub sends clients.
type wsMessage struct {
	Type    string `json:"type"`
	GroupID string `json:"group_id,omitempty"`
	Data    any    `json:"data"`
}

func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"
}

func dialWS(t *testing.T, srv *httptest.Server, c caller, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	hdr := http.Header{}
	if c.cookie != "" {
		hdr.Set("Cookie", sessionCookie+"="+c.cookie)
	}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), hdr)
	if err == nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, resp, err
}

func readMsg(t *testing.T, conn *websocket.Conn, wantType string) wsMessage {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", wantType, err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("bad message %s: %v", b, err)
		}
		if m.Type == wantType {
			return m
		}
	}
}

func subscribe(t *testing.T, conn *websocket.Conn, groups ...string) {
	t.Helper()
	if err := conn.WriteJSON(map[string]any{"subscribe": groups}); err != nil {
		t.Fatal(err)
	}
	readMsg(t, conn, "subscribed")
}

func TestWebSocketAuthAndOrigin(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) { c.Server.CORSOrigins = []string{"https://ui.example"} }})
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	viewer := h.session("viewer")
	cases := []struct {
		name   string
		c      caller
		origin string
		want   int
	}{
		{"no session is refused", anonymous, "http://dispatchoor.test", http.StatusUnauthorized},
		{"a foreign origin is refused even with a session", viewer, "https://evil.example", http.StatusForbidden},
		{"public_url origin is accepted", viewer, "http://dispatchoor.test", http.StatusSwitchingProtocols},
		{"a cors origin is accepted", viewer, "https://ui.example", http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := dialWS(t, srv, tc.c, tc.origin)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.want, err)
			}
		})
	}
	t.Run("a session id in the URL is not accepted", func(t *testing.T) {
		_, resp, _ := websocket.DefaultDialer.Dial(wsURL(srv)+"?session="+viewer.cookie, nil)
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v", resp)
		}
	})
}

func TestWebSocketGroupSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		srv := httptest.NewServer(h.srv)
		defer srv.Close()
		admin := h.session("admin")
		one, _, err := dialWS(t, srv, admin, "")
		if err != nil {
			t.Fatal(err)
		}
		two, _, err := dialWS(t, srv, admin, "")
		if err != nil {
			t.Fatal(err)
		}
		subscribe(t, one, testGroup)
		subscribe(t, two, otherGroup)

		j := h.enqueue(admin, "bottom")
		m := readMsg(t, one, hub.MsgJobState)
		if m.GroupID != testGroup {
			t.Fatalf("job_state for %s", m.GroupID)
		}
		q := readMsg(t, one, hub.MsgQueueUpdate)
		counts := q.Data.(map[string]any)["counts"].(map[string]any)
		if counts["pending"] != float64(1) {
			t.Fatalf("queue_update counts %v", counts)
		}
		h.doJSON(admin, "POST", "/api/v1/groups/"+testGroup+"/pause", nil, 200, nil)
		if g := readMsg(t, one, hub.MsgGroupUpdate); g.Data.(map[string]any)["paused"] != true {
			t.Fatalf("group_update %v", g.Data)
		}
		h.hub.RunnerChanged(core.Runner{ID: 5, Name: "r5", Status: core.RunnerOnline})
		h.hub.SystemStatus(map[string]any{"leader": true})
		// The other client gets the broadcasts but none of g1's messages.
		for _, want := range []string{hub.MsgRunnerStatus, hub.MsgSystemStatus} {
			_ = two.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := two.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			var got wsMessage
			_ = json.Unmarshal(b, &got)
			if got.Type != want {
				t.Fatalf("subscriber of %s got %s (%s), want %s", otherGroup, got.Type, b, want)
			}
		}
		readMsg(t, one, hub.MsgRunnerStatus)
		_ = j
	})
}

// A client that never reads is dropped; the other keeps receiving every
// message, and nothing panics (older hubs panicked on slow clients).
func TestWebSocketSlowClientIsDropped(t *testing.T) {
	// The margins are for the reading client, which must never be dropped
	// even on a loaded machine under -race: 64 messages of lag and 2s per
	// write. The never-reading client still fills both once the kernel's
	// socket buffers are full, long before the 20 MB below are sent.
	h := newHarness(t, storetest.SQLite(t), harnessOpts{hub: hub.Options{BufferSize: 64, WriteWait: 2 * time.Second}})
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	admin := h.session("admin")
	slow, _, err := dialWS(t, srv, admin, "")
	if err != nil {
		t.Fatal(err)
	}
	_ = slow // never read from
	fast, _, err := dialWS(t, srv, admin, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.hub.Clients() == 2 })

	done := make(chan int)
	go func() {
		n := 0
		for {
			_ = fast.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := fast.ReadMessage()
			if err != nil {
				done <- -1
				return
			}
			n++
			if strings.Contains(string(b), `"last"`) {
				done <- n
				return
			}
		}
	}()
	big := strings.Repeat("x", 32<<10)
	// 20 MB: more than the kernel buffers of the slow client's socket can
	// absorb, paced so that a client that does read keeps up.
	const total = 600
	for i := range total {
		h.hub.SystemStatus(map[string]any{"i": i, "pad": big})
		time.Sleep(time.Millisecond)
	}
	h.hub.SystemStatus(map[string]any{"last": true})
	if n := <-done; n < total {
		t.Fatalf("the reading client got %d of %d messages", n, total+1)
	}
	waitFor(t, func() bool { return h.hub.Clients() == 1 })
	if m := scrapeMetrics(t, h); !strings.Contains(m, "dispatchoor_websocket_dropped_total 1") {
		t.Fatalf("drop not counted:\n%s", grep(m, "websocket"))
	}
	// Events after a drop and after Close must not panic.
	h.hub.SystemStatus("after drop")
	_ = h.srv.Close()
	h.hub.JobChanged(core.Job{ID: 1, GroupID: testGroup})
	h.hub.QueueChanged(testGroup)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatal("condition not met in 10s")
		case <-time.After(20 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
}

// A job another replica changed is shown here but counted there only:
// BroadcastJob sends job_state and moves no metric.
func TestBroadcastJobShowsWithoutCounting(t *testing.T) {
	st := storetest.SQLite(t)
	h := newHarness(t, st, harnessOpts{})
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	conn, _, err := dialWS(t, srv, h.session("admin"), "")
	if err != nil {
		t.Fatal(err)
	}
	subscribe(t, conn, testGroup)
	done := time.Now()
	h.hub.BroadcastJob(core.Job{ID: 77, GroupID: testGroup, Status: core.StatusCompleted, CompletedAt: &done})
	m := readMsg(t, conn, hub.MsgJobState)
	if m.Data.(map[string]any)["id"] != float64(77) {
		t.Fatalf("job_state %v", m.Data)
	}
	if text := scrapeMetrics(t, h); strings.Contains(text, `dispatchoor_jobs_completed_total{group="`+testGroup+`"}`) {
		t.Fatalf("a remote job was counted here:\n%s", text)
	}
}
