package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/secretbox"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// TestGitHubMembershipAcrossReplicas: the token a login stores is sealed in
// the database, so a server that never saw the login (a restarted one, or
// another replica) re-checks the user too.
func TestGitHubMembershipAcrossReplicas(t *testing.T) {
	type world struct {
		sim *ghsim.Sim
		st  *store.Store
		box *secretbox.Box
	}
	newWorld := func(t *testing.T) world {
		sim := ghsimtest.New(t, ghsim.Options{})
		sim.AddOrg("admin-org")
		sim.AddUser(ghsim.User{Login: "octo", Orgs: []string{"admin-org"}})
		return world{sim: sim, st: storetest.SQLite(t), box: testSealer(t)}
	}
	replica := func(t *testing.T, w world, every time.Duration, box TokenSealer) *harness {
		return newHarness(t, w.st, harnessOpts{
			mutate: func(c *config.Config) {
				c.GitHub.WebURL, c.GitHub.APIURL = w.sim.BaseURL(), w.sim.APIURL()
				c.GitHub.App.ClientID, c.GitHub.App.ClientSecret = w.sim.ClientID(), config.Secret(w.sim.ClientSecret())
				c.Auth.GitHub = config.GitHubAuth{Enabled: true, RecheckInterval: every,
					OrgRoleMapping: map[string]string{"admin-org": "admin"}}
			},
			options: func(o *Options) { o.TokenSealer = box },
		})
	}
	waitFor := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("a replica that never saw the login disables a removed member", func(t *testing.T) {
		w := newWorld(t)
		first := replica(t, w, config.MaxGitHubRecheckInterval, w.box)
		octo := githubLoginVia(t, first, w.sim, "octo")
		_ = first.srv.Close() // the login's server is gone (restart)
		second := replica(t, w, 200*time.Millisecond, w.box)
		w.sim.AddUser(ghsim.User{Login: "octo"}) // removed from admin-org
		waitFor(t, "disabled by the second replica", func() bool {
			u, err := w.st.GetUser(context.Background(), "octo")
			return err == nil && u.Disabled
		})
		if rec := second.do(octo, "GET", "/api/v1/auth/me", nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("session of a removed member on the second replica: %d, want 401", rec.Code)
		}
		if l, _ := w.st.GitHubUserTokenLogins(context.Background()); len(l) != 0 {
			t.Fatalf("tokens held after the role was lost: %v", l)
		}
	})

	t.Run("a socket opened on another replica is re-checked at once", func(t *testing.T) {
		w := newWorld(t)
		first := replica(t, w, config.MaxGitHubRecheckInterval, w.box)
		octo := githubLoginVia(t, first, w.sim, "octo")
		second := replica(t, w, config.MaxGitHubRecheckInterval, w.box)
		srv := httptest.NewServer(second.srv)
		t.Cleanup(srv.Close)
		w.sim.AddUser(ghsim.User{Login: "octo", Orgs: []string{"elsewhere"}})
		hdr := http.Header{"Cookie": {sessionCookie + "=" + octo.cookie}}
		if _, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), hdr); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("socket of a removed member on another replica: %v %v, want 403", resp, err)
		}
	})

	t.Run("the token is sealed at rest", func(t *testing.T) {
		w := newWorld(t)
		h := replica(t, w, config.MaxGitHubRecheckInterval, w.box)
		githubLoginVia(t, h, w.sim, "octo")
		ctx := context.Background()
		tok, err := h.srv.members.token(ctx, "octo")
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("held token: %+v %v", tok, err)
		}
		sealed, err := w.st.GetGitHubUserToken(ctx, "octo")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte(tok.AccessToken)) {
			t.Fatal("the stored row holds the access token in the clear")
		}
	})

	t.Run("a token sealed under another key ends the sessions but keeps the user", func(t *testing.T) {
		w := newWorld(t)
		first := replica(t, w, config.MaxGitHubRecheckInterval, w.box)
		octo := githubLoginVia(t, first, w.sim, "octo")
		_ = first.srv.Close()
		second := replica(t, w, 200*time.Millisecond, testSealer(t)) // DISPATCHOOR_SECRET_KEY changed
		waitFor(t, "sessions ended", func() bool {
			return second.do(octo, "GET", "/api/v1/auth/me", nil).Code == http.StatusUnauthorized
		})
		if u, err := w.st.GetUser(context.Background(), "octo"); err != nil || u.Disabled {
			t.Fatalf("user after a lost token: %+v %v, want enabled (they log in again)", u, err)
		}
		githubLoginVia(t, second, w.sim, "octo") // and they can
	})

	t.Run("GitHub login without DISPATCHOOR_SECRET_KEY refuses to start", func(t *testing.T) {
		w := newWorld(t)
		h := newHarness(t, w.st, harnessOpts{
			noStart: true,
			mutate: func(c *config.Config) {
				c.GitHub.App.ClientID, c.GitHub.App.ClientSecret = "id", "secret"
				c.Auth.GitHub = config.GitHubAuth{Enabled: true, OrgRoleMapping: map[string]string{"admin-org": "admin"}}
			},
			options: func(o *Options) { o.TokenSealer = nil },
		})
		err := h.srv.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), secretbox.EnvVar) {
			t.Fatalf("start without a key: %v, want an error naming %s", err, secretbox.EnvVar)
		}
	})
}
