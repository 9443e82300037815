package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func login(h *harness, user, pass string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(anonymous, "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pass})
}

func sessionFrom(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", rec.Header())
	return nil
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		cases := []struct {
			name, user, pass string
			want             int
			wantCode         string
		}{
			{"plaintext config password logs in", "admin", adminPass, 200, ""},
			{"password_hash user logs in", "viewer", viewerPass, 200, ""},
			{"wrong password is refused", "admin", "nope", 401, "invalid_credentials"},
			{"unknown user gets the same answer", "mallory", "nope", 401, "invalid_credentials"},
			{"missing password names the field", "admin", "", 400, "invalid"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := login(h, tc.user, tc.pass)
				if rec.Code != tc.want {
					t.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
				if tc.want != 200 {
					if e := decodeErr(t, rec); e.Code != tc.wantCode {
						t.Fatalf("code %q", e.Code)
					}
					return
				}
				c := sessionFrom(t, rec)
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
					t.Fatalf("cookie attributes: %+v", c)
				}
				if len(c.Value) != 43 { // 32 random bytes, base64url
					t.Fatalf("session token %d characters, want 43 (256 bits)", len(c.Value))
				}
				assertNotStored(t, st, c.Value)
				var me meResponse
				h.doJSON(caller{name: tc.user, cookie: c.Value}, "GET", "/api/v1/auth/me", nil, 200, &me)
				if me.Username != tc.user || me.Auth != "session" {
					t.Fatalf("me: %+v", me)
				}
			})
		}
		failed, err := st.ListAudit(context.Background(), store.AuditQuery{Action: "login_failed"})
		if err != nil || len(failed.Items) != 2 {
			t.Fatalf("login_failed audit entries: %d (%v)", len(failed.Items), err)
		}
		ok, err := st.ListAudit(context.Background(), store.AuditQuery{Action: "login"})
		if err != nil || len(ok.Items) != 2 {
			t.Fatalf("login audit entries: %d (%v)", len(ok.Items), err)
		}
	})
}

// assertNotStored proves a secret is kept only as its SHA-256.
func assertNotStored(t *testing.T, st *store.Store, raw string) {
	t.Helper()
	for _, q := range []string{
		"SELECT COUNT(*) FROM sessions WHERE id_hash = ?",
		"SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?",
	} {
		var n int
		if err := st.DB().Get(&n, sqlx.Rebind(sqlx.BindType(st.DB().DriverName()), q), raw); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != 0 {
			t.Fatalf("a raw secret is stored in the database (%s)", q)
		}
	}
}

func TestLoginNeedsCSRFHeader(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	creds := map[string]string{"username": "admin", "password": adminPass}
	withAuthorization := func(value string) *httptest.ResponseRecorder {
		r := h.request(caller{name: "no csrf", noCSRF: true}, "POST", "/api/v1/auth/login", creds)
		if value != "" {
			r.Header.Set("Authorization", value)
		}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		return rec
	}
	for name, authz := range map[string]string{
		"no header at all":                   "",
		"a Basic Authorization header":       "Basic YWRtaW46cGFzc3dvcmQ=",
		"a Bearer token that does not exist": "Bearer not-a-token",
		"a malformed Authorization header":   "whatever",
	} {
		t.Run("refused with "+name, func(t *testing.T) {
			rec := withAuthorization(authz)
			if rec.Code != 403 || decodeErr(t, rec).Code != "csrf" {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
			if len(rec.Result().Cookies()) != 0 {
				t.Fatal("a session cookie was set")
			}
		})
	}
	t.Run("a valid API token needs no CSRF header", func(t *testing.T) {
		tok := h.token("ci", "readonly")
		rec := withAuthorization("Bearer " + tok.token)
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	})
}

func TestSecureCookie(t *testing.T) {
	t.Run("https public_url sets Secure", func(t *testing.T) {
		h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) { c.Server.PublicURL = "https://dispatchoor.test" }})
		if c := sessionFrom(t, login(h, "admin", adminPass)); !c.Secure {
			t.Fatal("cookie not Secure under an https public_url")
		}
	})
	t.Run("a TLS request sets Secure", func(t *testing.T) {
		h := newHarness(t, storetest.SQLite(t), harnessOpts{})
		r := h.request(anonymous, "POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPass})
		r.TLS = &tls.ConnectionState{}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		if c := sessionFrom(t, rec); !c.Secure {
			t.Fatal("cookie not Secure on a TLS request")
		}
	})
}

func TestSessionRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		t.Run("unsafe method with the cookie but no CSRF header is refused", func(t *testing.T) {
			c := admin
			c.noCSRF = true
			before := countJobs(t, h)
			rec := h.do(c, "POST", "/api/v1/groups/"+testGroup+"/queue", map[string]any{"template_id": testTmpl})
			if rec.Code != 403 || decodeErr(t, rec).Code != "csrf" {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
			if countJobs(t, h) != before {
				t.Fatal("refused request wrote a job")
			}
		})
		t.Run("safe method needs no CSRF header", func(t *testing.T) {
			c := admin
			c.noCSRF = true
			h.doJSON(c, "GET", "/api/v1/groups", nil, 200, nil)
		})
		t.Run("a token in the query string is never accepted", func(t *testing.T) {
			tok := h.token("query", roleAdmin)
			for _, q := range []string{"token=", "access_token=", "session=", sessionCookie + "="} {
				rec := h.do(anonymous, "GET", "/api/v1/auth/me?"+q+tok.token, nil)
				if rec.Code != 401 {
					t.Fatalf("?%s...: %d", q, rec.Code)
				}
				rec = h.do(anonymous, "GET", "/api/v1/auth/me?"+q+admin.cookie, nil)
				if rec.Code != 401 {
					t.Fatalf("?%s<session>: %d", q, rec.Code)
				}
			}
		})
		t.Run("logout revokes the session", func(t *testing.T) {
			c := h.session("admin")
			if rec := h.do(c, "POST", "/api/v1/auth/logout", nil); rec.Code != 204 {
				t.Fatalf("logout: %d %s", rec.Code, rec.Body.String())
			}
			if rec := h.do(c, "GET", "/api/v1/auth/me", nil); rec.Code != 401 {
				t.Fatalf("after logout: %d", rec.Code)
			}
		})
		t.Run("an expired session is refused", func(t *testing.T) {
			c := h.session("viewer")
			st.SetClock(func() time.Time { return time.Now().Add(h.cfg.Auth.SessionTTL + time.Minute) })
			defer st.SetClock(time.Now)
			if rec := h.do(c, "GET", "/api/v1/auth/me", nil); rec.Code != 401 {
				t.Fatalf("expired session: %d", rec.Code)
			}
		})
		t.Run("a malformed Authorization header is refused, not ignored", func(t *testing.T) {
			r := h.request(admin, "GET", "/api/v1/auth/me", nil)
			r.Header.Set("Authorization", "Basic YWRtaW46eA==")
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, r)
			if rec.Code != 401 {
				t.Fatalf("%d", rec.Code)
			}
		})
	})
}

func TestRemovedUserCannotLogInAndLosesSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		withGone := func(c *config.Config) {
			c.Auth.Basic.Users = append(c.Auth.Basic.Users, config.User{Username: "gone", Password: "gone-password", Role: config.RoleAdmin})
		}
		h1 := newHarness(t, st, harnessOpts{mutate: withGone})
		c := sessionFrom(t, login(h1, "gone", "gone-password"))
		h1.doJSON(caller{name: "gone", cookie: c.Value}, "GET", "/api/v1/auth/me", nil, 200, nil)

		h2 := newHarness(t, st, harnessOpts{}) // restart without "gone"
		if rec := h2.do(caller{name: "gone", cookie: c.Value}, "GET", "/api/v1/auth/me", nil); rec.Code != 401 {
			t.Fatalf("removed user's session still works: %d", rec.Code)
		}
		if rec := login(h2, "gone", "gone-password"); rec.Code != 401 {
			t.Fatalf("removed user logged in: %d", rec.Code)
		}
	})
}

func TestLoginBeforeStartIsRefused(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{noStart: true})
	if rec := login(h, "admin", adminPass); rec.Code != 503 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestUnknownUserIsComparedAgainstAnEquallyCostlyHash(t *testing.T) {
	h12, _ := bcrypt.GenerateFromPassword([]byte("x"), 6)
	u := newBasicUsers(config.BasicAuth{Enabled: true, Users: []config.User{{Username: "a", PasswordHash: config.Secret(h12), Role: "admin"}}}, bcrypt.MinCost, h12Logger())
	if c, err := bcrypt.Cost(u.dummy); err != nil || c != 6 {
		t.Fatalf("dummy hash cost %d (%v), want the configured hashes' cost 6", c, err)
	}
	if _, ok := u.check("nobody", "x"); ok {
		t.Fatal("unknown user accepted")
	}
	if _, ok := u.check("a", "x"); !ok {
		t.Fatal("known user refused")
	}
}

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		var created createdToken
		h.doJSON(admin, "POST", "/api/v1/tokens", map[string]string{"name": "ci", "role": "readonly"}, 201, &created)
		if !strings.HasPrefix(created.Token, tokenPrefix) || created.ID == 0 {
			t.Fatalf("created: %+v", created)
		}
		assertNotStored(t, st, created.Token)
		rec := h.do(admin, "GET", "/api/v1/tokens", nil)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), created.Token) {
			t.Fatalf("token list shows the secret or failed: %d", rec.Code)
		}
		ro := caller{name: "ci", token: created.Token}
		h.doJSON(ro, "GET", "/api/v1/groups", nil, 200, nil)
		if rec := h.do(ro, "POST", "/api/v1/groups/"+testGroup+"/pause", nil); rec.Code != 403 {
			t.Fatalf("readonly token paused a group: %d", rec.Code)
		}
		uses, err := st.ListAudit(context.Background(), store.AuditQuery{Action: "token_use", Actor: "token:ci"})
		if err != nil || len(uses.Items) != 2 {
			t.Fatalf("token uses audited: %d (%v)", len(uses.Items), err)
		}
		if rec := h.do(admin, "POST", "/api/v1/tokens", map[string]string{"name": "x", "role": "root"}); rec.Code != 400 || decodeErr(t, rec).Field != "role" {
			t.Fatalf("bad role: %d %s", rec.Code, rec.Body.String())
		}
		if rec := h.do(admin, "POST", "/api/v1/tokens", map[string]string{"name": "ci", "role": "admin"}); rec.Code != 409 {
			t.Fatalf("duplicate name: %d %s", rec.Code, rec.Body.String())
		}
		if rec := h.do(admin, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), nil); rec.Code != 204 {
			t.Fatalf("revoke: %d %s", rec.Code, rec.Body.String())
		}
		if rec := h.do(ro, "GET", "/api/v1/groups", nil); rec.Code != 401 {
			t.Fatalf("revoked token still works: %d", rec.Code)
		}
		for _, action := range []string{"token_create", "token_revoke"} {
			a, err := st.ListAudit(context.Background(), store.AuditQuery{Action: action})
			if err != nil || len(a.Items) != 1 {
				t.Fatalf("%s audited %d times (%v)", action, len(a.Items), err)
			}
		}
	})
}

func TestCORS(t *testing.T) {
	cases := []struct {
		name          string
		origins       []string
		origin        string
		wantAllow     string
		wantCreds     bool
		wantPreflight bool
	}{
		{"exact origin gets credentials", []string{"https://ui.example"}, "https://ui.example", "https://ui.example", true, true},
		{"other origin gets nothing", []string{"https://ui.example"}, "https://evil.example", "", false, false},
		{"wildcard never sends credentials", []string{"*"}, "https://evil.example", "*", false, true},
		{"exact beats wildcard", []string{"*", "https://ui.example"}, "https://ui.example", "https://ui.example", true, true},
		{"no origins configured", nil, "https://ui.example", "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) { c.Server.CORSOrigins = tc.origins }})
			r := h.request(anonymous, "GET", "/health", nil)
			r.Header.Set("Origin", tc.origin)
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, r)
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.wantAllow {
				t.Fatalf("allow-origin %q, want %q", got, tc.wantAllow)
			}
			if got := rec.Header().Get("Access-Control-Allow-Credentials") == "true"; got != tc.wantCreds {
				t.Fatalf("credentials %v, want %v", got, tc.wantCreds)
			}
			r = h.request(anonymous, "OPTIONS", "/api/v1/groups", nil)
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Access-Control-Request-Method", "POST")
			rec = httptest.NewRecorder()
			h.srv.ServeHTTP(rec, r)
			if got := rec.Header().Get("Access-Control-Allow-Methods") != ""; got != tc.wantPreflight {
				t.Fatalf("preflight allowed %v, want %v", got, tc.wantPreflight)
			}
		})
	}
}

func TestLoginRateLimitPerClient(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) {
		c.Server.RateLimit.Auth.RequestsPerMinute = 2
		c.Server.TrustedProxies = []string{"10.0.0.0/8"}
	}})
	try := func(remote, xff string) int {
		r := h.request(anonymous, "POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": "wrong"})
		r.RemoteAddr = remote + ":1234"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		if rec.Code == 429 && rec.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		return rec.Code
	}
	// An untrusted client cannot dodge the limit by inventing X-Forwarded-For.
	got := []int{try("198.51.100.1", "1.1.1.1"), try("198.51.100.1", "2.2.2.2"), try("198.51.100.1", "3.3.3.3")}
	if got[0] != 401 || got[1] != 401 || got[2] != 429 {
		t.Fatalf("untrusted client: %v, want [401 401 429]", got)
	}
	if c := try("198.51.100.2", ""); c != 401 {
		t.Fatalf("another client was limited too: %d", c)
	}
	// Behind a trusted proxy each forwarded client has its own budget.
	got = []int{try("10.0.0.1", "203.0.113.5"), try("10.0.0.1", "203.0.113.5"), try("10.0.0.1", "203.0.113.5"), try("10.0.0.1", "203.0.113.6")}
	if got[2] != 429 || got[3] != 401 {
		t.Fatalf("trusted proxy: %v, want third 429 and a different client 401", got)
	}
}

func TestClientAddr(t *testing.T) {
	c := clientAddr{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	cases := []struct {
		name, remote, xff, want string
	}{
		{"untrusted peer: header ignored", "198.51.100.1:1", "1.2.3.4", "198.51.100.1"},
		{"trusted peer: last untrusted hop", "10.0.0.1:1", "6.6.6.6, 203.0.113.5", "203.0.113.5"},
		{"trusted chain is skipped", "10.0.0.1:1", "203.0.113.5, 10.1.1.1", "203.0.113.5"},
		{"garbage hop stops the walk", "10.0.0.1:1", "203.0.113.5, junk", "10.0.0.1"},
		{"no header: the peer", "10.0.0.1:1", "", "10.0.0.1"},
		{"ipv4-mapped ipv6 peer", "[::ffff:10.0.0.1]:1", "203.0.113.9", "203.0.113.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := c.of(r); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4, 10.0.0.2", "junk, 10.0.0.3", "::1", ",,,", "10.0.0.1, 203.0.113.5"} {
		f.Add("10.0.0.1", s)
		f.Add("198.51.100.7", s)
	}
	c := clientAddr{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = net.JoinHostPort(peer, "1")
		r.Header.Set("X-Forwarded-For", xff)
		got := c.of(r)
		p, err := netip.ParseAddr(peer)
		if err != nil || p.Zone() != "" {
			return // net/http never hands us such a RemoteAddr
		}
		if !c.isTrusted(p.Unmap()) && got != p.Unmap().String() {
			t.Fatalf("untrusted peer %s: header %q was believed (%s)", peer, xff, got)
		}
		hops := map[string]bool{p.Unmap().String(): true}
		for _, hop := range strings.Split(xff, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil {
				hops[a.Unmap().String()] = true
			}
		}
		if !hops[got] {
			t.Fatalf("client %q is neither the peer nor a hop of the header %q", got, xff)
		}
	})
}
