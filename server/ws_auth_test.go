package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ethpandaops/dispatchoor/hub"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// wsCloseBound is what docs/API.md ("Live updates") promises: a socket is
// closed within 2 s of its credential ending.
const wsCloseBound = 2 * time.Second

// dialAs opens a socket authenticated by c's cookie or bearer token.
func dialAs(t *testing.T, srv *httptest.Server, c caller) *websocket.Conn {
	t.Helper()
	hdr := http.Header{}
	if c.cookie != "" {
		hdr.Set("Cookie", sessionCookie+"="+c.cookie)
	}
	if c.token != "" {
		hdr.Set("Authorization", "Bearer "+c.token)
	}
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), hdr)
	if err != nil {
		t.Fatalf("dial as %s: %v (%v)", c.name, err, resp)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// closedWithin reads until the socket ends and fails unless the server
// closed it with CloseCredentialsEnded within bound of since.
func closedWithin(t *testing.T, conn *websocket.Conn, since time.Time, bound time.Duration) {
	t.Helper()
	// Past the bound the read gives up, so a socket left open fails here.
	_ = conn.SetReadDeadline(since.Add(bound))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != hub.CloseCredentialsEnded {
			t.Fatalf("socket not closed for ended credentials within %s: %v", bound, err)
		}
		t.Logf("closed after %s: %v", time.Since(since).Round(time.Millisecond), ce)
		return
	}
}

// stillOpen proves a socket of another principal was left alone: it still
// gets its subscription answered.
func stillOpen(t *testing.T, conn *websocket.Conn) {
	t.Helper()
	subscribe(t, conn, testGroup)
}

func TestWebSocketsCloseWhenCredentialsEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// The re-check interval stays at its default (1s), so these cases
		// also prove the documented bound.
		h := newHarness(t, st, harnessOpts{})
		srv := httptest.NewServer(h.srv)
		defer srv.Close()

		t.Run("logout closes that session's sockets at once, and only those", func(t *testing.T) {
			admin, other := h.session("admin"), h.session("admin")
			conn, bystander := dialAs(t, srv, admin), dialAs(t, srv, other)
			start := time.Now()
			h.doJSON(admin, "POST", "/api/v1/auth/logout", nil, http.StatusNoContent, nil)
			closedWithin(t, conn, start, wsCloseBound)
			stillOpen(t, bystander)
		})
		t.Run("a session expiring closes its sockets", func(t *testing.T) {
			raw := newSecret()
			expires := time.Now().Add(time.Second)
			if _, err := st.CreateSession(ctx, store.Session{Hash: store.HashSecret(raw), Username: "viewer", ExpiresAt: expires}); err != nil {
				t.Fatal(err)
			}
			conn := dialAs(t, srv, caller{name: "short session", cookie: raw})
			closedWithin(t, conn, expires, wsCloseBound)
		})
		t.Run("a revoked token's sockets close, other tokens' stay", func(t *testing.T) {
			admin := h.session("admin")
			tok, keep := h.token("ci-ws", store.RoleReadonly), h.token("keep-ws", store.RoleReadonly)
			conn, bystander := dialAs(t, srv, tok), dialAs(t, srv, keep)
			live, err := st.GetTokenByHash(ctx, store.HashSecret(tok.token))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			h.doJSON(admin, "DELETE", "/api/v1/tokens/"+strconv.FormatInt(live.ID, 10), nil, http.StatusNoContent, nil)
			closedWithin(t, conn, start, wsCloseBound)
			stillOpen(t, bystander)
		})
		t.Run("a token revoked by another replica closes its sockets", func(t *testing.T) {
			tok := h.token("ci-elsewhere", store.RoleReadonly)
			conn := dialAs(t, srv, tok)
			live, err := st.GetTokenByHash(ctx, store.HashSecret(tok.token))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			// Straight in the database: this process's handler never runs.
			if _, err := st.RevokeToken(ctx, live.ID); err != nil {
				t.Fatal(err)
			}
			closedWithin(t, conn, start, wsCloseBound)
		})
		t.Run("a logout on another replica closes the session's sockets", func(t *testing.T) {
			admin := h.session("admin")
			conn := dialAs(t, srv, admin)
			start := time.Now()
			if err := st.DeleteSession(ctx, store.HashSecret(admin.cookie)); err != nil {
				t.Fatal(err)
			}
			closedWithin(t, conn, start, wsCloseBound)
		})
		t.Run("a user removed from the config loses their sockets", func(t *testing.T) {
			viewer, admin := h.session("viewer"), h.session("admin")
			conn, bystander := dialAs(t, srv, viewer), dialAs(t, srv, admin)
			start := time.Now()
			// What a replica started with the new config does.
			if _, err := st.SyncBasicUsers(ctx, []store.BasicUser{{Username: "admin", Role: store.RoleAdmin}}); err != nil {
				t.Fatal(err)
			}
			closedWithin(t, conn, start, wsCloseBound)
			stillOpen(t, bystander)
		})
		t.Run("a GitHub user disabled for losing their org loses their sockets", func(t *testing.T) {
			if err := st.UpsertGitHubUser(ctx, "octo", store.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			octo := h.session("octo")
			conn := dialAs(t, srv, octo)
			start := time.Now()
			if err := st.DisableUser(ctx, "octo"); err != nil {
				t.Fatal(err)
			}
			closedWithin(t, conn, start, wsCloseBound)
		})
	})
}
