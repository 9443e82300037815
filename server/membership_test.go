package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// githubLoginVia logs login in through ghsim's OAuth flow end to end and
// returns the session.
func githubLoginVia(t *testing.T, h *harness, sim *ghsim.Sim, login string) caller {
	t.Helper()
	sim.SetOAuthUser(login)
	rec := h.do(anonymous, "GET", "/api/v1/auth/github", nil)
	if rec.Code != http.StatusFound {
		t.Fatalf("start: %d %s", rec.Code, rec.Body.String())
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("ghsim authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	r := h.request(anonymous, "GET", "/api/v1/auth/github/callback?"+back.RawQuery, nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	cb := httptest.NewRecorder()
	h.srv.ServeHTTP(cb, r)
	if cb.Code != http.StatusFound {
		t.Fatalf("callback: %d %s", cb.Code, cb.Body.String())
	}
	return caller{name: login + " (github session)", cookie: sessionFrom(t, cb).Value}
}

func TestGitHubMembershipRecheck(t *testing.T) {
	setup := func(t *testing.T, every time.Duration) (*harness, *ghsim.Sim, *httptest.Server) {
		sim := ghsimtest.New(t, ghsim.Options{})
		sim.AddOrg("admin-org")
		sim.AddOrg("read-org")
		sim.AddUser(ghsim.User{Login: "octo", Orgs: []string{"admin-org"}})
		h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) {
			c.GitHub.WebURL, c.GitHub.APIURL = sim.BaseURL(), sim.APIURL()
			c.GitHub.App.ClientID, c.GitHub.App.ClientSecret = sim.ClientID(), config.Secret(sim.ClientSecret())
			c.Auth.GitHub = config.GitHubAuth{Enabled: true, RecheckInterval: every,
				OrgRoleMapping: map[string]string{"admin-org": "admin", "read-org": "readonly"}}
		}})
		srv := httptest.NewServer(h.srv)
		t.Cleanup(srv.Close)
		return h, sim, srv
	}
	me := func(h *harness, c caller) (int, meResponse) {
		var m meResponse
		rec := h.do(c, "GET", "/api/v1/auth/me", nil)
		if rec.Code == http.StatusOK {
			h.doJSON(c, "GET", "/api/v1/auth/me", nil, http.StatusOK, &m)
		}
		return rec.Code, m
	}

	t.Run("removal from the mapped org ends the session and closes the socket within an interval", func(t *testing.T) {
		const every = 300 * time.Millisecond
		h, sim, srv := setup(t, every)
		octo := githubLoginVia(t, h, sim, "octo")
		conn := dialAs(t, srv, octo)
		start := time.Now()
		sim.AddUser(ghsim.User{Login: "octo"}) // no orgs any more
		closedWithin(t, conn, start, every+wsCloseBound)
		if code, _ := me(h, octo); code != http.StatusUnauthorized {
			t.Fatalf("session of a removed member: %d, want 401", code)
		}
		if u, err := h.st.GetUser(context.Background(), "octo"); err != nil || !u.Disabled {
			t.Fatalf("removed member: %+v %v, want disabled", u, err)
		}
	})
	t.Run("a lowered role applies without ending the session", func(t *testing.T) {
		h, sim, _ := setup(t, 200*time.Millisecond)
		octo := githubLoginVia(t, h, sim, "octo")
		sim.AddUser(ghsim.User{Login: "octo", Orgs: []string{"read-org"}})
		deadline := time.Now().Add(3 * time.Second)
		for {
			code, m := me(h, octo)
			if code == http.StatusOK && m.Role == store.RoleReadonly {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("role after moving to read-org: %d %+v, want readonly", code, m)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("a reconnect re-checks at once, long before the interval", func(t *testing.T) {
		h, sim, srv := setup(t, config.MaxGitHubRecheckInterval)
		octo := githubLoginVia(t, h, sim, "octo")
		first := dialAs(t, srv, octo)
		sim.AddUser(ghsim.User{Login: "octo", Orgs: []string{"some-other-org"}})
		start := time.Now()
		hdr := http.Header{"Cookie": {sessionCookie + "=" + octo.cookie}}
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), hdr)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("reconnect of a removed member: %v %v, want 403", resp, err)
		}
		// The user is now disabled: the older socket closes too.
		closedWithin(t, first, start, wsCloseBound)
	})
	t.Run("a user who logged out is no longer asked about", func(t *testing.T) {
		h, sim, _ := setup(t, 100*time.Millisecond)
		octo := githubLoginVia(t, h, sim, "octo")
		held := func() []string {
			l, err := h.st.GitHubUserTokenLogins(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if len(held()) != 1 {
			t.Fatalf("held after login: %v", held())
		}
		h.doJSON(octo, "POST", "/api/v1/auth/logout", nil, http.StatusNoContent, nil)
		deadline := time.Now().Add(2 * time.Second)
		for len(held()) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("token still held after logout: %v", held())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("a member who keeps their org keeps their socket", func(t *testing.T) {
		h, sim, srv := setup(t, 100*time.Millisecond)
		octo := githubLoginVia(t, h, sim, "octo")
		conn := dialAs(t, srv, octo)
		time.Sleep(500 * time.Millisecond) // several re-checks
		stillOpen(t, conn)
		if code, m := me(h, octo); code != http.StatusOK || m.Role != store.RoleAdmin {
			t.Fatalf("kept member: %d %+v", code, m)
		}
	})
}
