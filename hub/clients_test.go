package hub

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestCloseClientsClosesExactlyOnePrincipal(t *testing.T) {
	h := New(Options{})
	t.Cleanup(func() { _ = h.Close() })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeWS(w, r, Client{User: "u", Principal: r.URL.Query().Get("p")})
	}))
	t.Cleanup(srv.Close)
	dial := func(p string) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/?p="+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a1, a2, b := dial("session:a"), dial("session:a"), dial("token:7")
	waitFor(t, func() bool { return h.Clients() == 3 })
	got := h.Principals()
	slices.Sort(got)
	if !slices.Equal(got, []string{"session:a", "token:7"}) {
		t.Fatalf("principals = %v, want each once", got)
	}
	if n := h.CloseClients("session:a", "logged out"); n != 2 {
		t.Fatalf("closed %d sockets, want 2", n)
	}
	for _, c := range []*websocket.Conn{a1, a2} {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseCredentialsEnded || ce.Text != "logged out" {
			t.Fatalf("read after close: %v, want close %d", err, CloseCredentialsEnded)
		}
	}
	waitFor(t, func() bool { return h.Clients() == 1 })
	if err := b.WriteJSON(map[string]any{"subscribe": []string{testGroup}}); err != nil {
		t.Fatal(err)
	}
	readMsg(t, b, "subscribed")
	if n := h.CloseClients("", "nothing"); n != 0 {
		t.Fatalf("an empty principal closed %d sockets", n)
	}
}
