package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestRoleFor(t *testing.T) {
	g := &githubLogin{
		users: lowerKeys(map[string]string{"Octocat": "readonly", "boss": "admin"}),
		orgs:  lowerKeys(map[string]string{"admins": "admin", "viewers": "readonly"}),
	}
	cases := []struct {
		name  string
		login string
		orgs  []string
		want  string
	}{
		{"user mapping decides before org mapping", "octocat", []string{"admins"}, "readonly"},
		{"user mapping alone", "boss", nil, "admin"},
		{"highest org role wins", "someone", []string{"viewers", "admins"}, "admin"},
		{"highest org role wins in any order", "someone", []string{"admins", "viewers"}, "admin"},
		{"readonly org", "someone", []string{"other", "viewers"}, "readonly"},
		{"org names compare case-insensitively", "someone", []string{"ADMINS"}, "admin"},
		{"mapped to nothing is refused", "someone", []string{"other"}, ""},
		{"no orgs is refused", "someone", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.roleFor(tc.login, tc.orgs); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSafeRedirect(t *testing.T) {
	cases := map[string]string{
		"/groups/g1?tab=history": "/groups/g1?tab=history",
		"":                       "/",
		"//evil.example/x":       "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"evil.example":           "/",
		"javascript:alert(1)":    "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"/%2F%2Fevil.example":    "/%2F%2Fevil.example",
	}
	for in, want := range cases {
		if got := safeRedirect(in); got != want {
			t.Errorf("safeRedirect(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "https://x", "/a?b=c", "/\t/evil", "%2F%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeRedirect(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") || strings.ContainsAny(out, "\r\n\\") {
			t.Fatalf("safeRedirect(%q) = %q leaves the site", in, out)
		}
		u, err := url.Parse("https://dispatchoor.test" + out)
		if err != nil || u.Host != "dispatchoor.test" {
			t.Fatalf("safeRedirect(%q) = %q resolves to host %v (%v)", in, out, u, err)
		}
	})
}

// fakeGitHub serves the OAuth token exchange, /user and a two-page
// /user/orgs, as GitHub does (Link header pagination).
func fakeGitHub(t *testing.T, login string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("code") != "good-code" || r.Form.Get("client_secret") != "client-secret" {
			http.Error(w, `{"error":"bad_verification_code"}`, 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ghu_user","token_type":"bearer"}`))
	})
	mux.HandleFunc("GET /api/v3/user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ghu_user" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"login": login, "id": 1})
	})
	var srv *httptest.Server
	mux.HandleFunc("GET /api/v3/user/orgs", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			_ = json.NewEncoder(w).Encode([]map[string]any{{"login": "admin-org", "id": 3}})
			return
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3/user/orgs?page=2&per_page=100>; rel="next", <%s/api/v3/user/orgs?page=2&per_page=100>; rel="last"`, srv.URL, srv.URL))
		_ = json.NewEncoder(w).Encode([]map[string]any{{"login": "some-org", "id": 2}})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestGitHubLogin(t *testing.T) {
	setup := func(t *testing.T, login string) *harness {
		gh := fakeGitHub(t, login)
		return newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) {
			c.GitHub.WebURL, c.GitHub.APIURL = gh.URL, gh.URL+"/api/v3/"
			c.GitHub.App.ClientID, c.GitHub.App.ClientSecret = "client-id", "client-secret"
			c.Auth.GitHub = config.GitHubAuth{Enabled: true, OrgRoleMapping: map[string]string{"admin-org": "admin"}}
		}})
	}
	start := func(t *testing.T, h *harness, redirect string) (state string, cookie *http.Cookie) {
		rec := h.do(anonymous, "GET", "/api/v1/auth/github?redirect="+url.QueryEscape(redirect), nil)
		if rec.Code != http.StatusFound {
			t.Fatalf("start: %d %s", rec.Code, rec.Body.String())
		}
		loc, _ := url.Parse(rec.Header().Get("Location"))
		if loc.Query().Get("client_id") != "client-id" || loc.Query().Get("redirect_uri") != "http://dispatchoor.test/api/v1/auth/github/callback" {
			t.Fatalf("authorize URL: %s", loc)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == oauthCookie {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly {
			t.Fatalf("state cookie: %+v", cookie)
		}
		return loc.Query().Get("state"), cookie
	}
	callback := func(h *harness, query string, c *http.Cookie) *httptest.ResponseRecorder {
		r := h.request(anonymous, "GET", "/api/v1/auth/github/callback?"+query, nil)
		if c != nil {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		return rec
	}

	t.Run("org on the second page of /user/orgs maps to admin and the redirect stays local", func(t *testing.T) {
		h := setup(t, "octo")
		state, c := start(t, h, "/groups/g1")
		rec := callback(h, "code=good-code&state="+state, c)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != "http://dispatchoor.test/groups/g1" {
			t.Fatalf("callback: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		var me meResponse
		h.doJSON(caller{name: "octo", cookie: sessionFrom(t, rec).Value}, "GET", "/api/v1/auth/me", nil, 200, &me)
		if me.Username != "octo" || me.Role != "admin" {
			t.Fatalf("me: %+v", me)
		}
	})
	t.Run("an absolute redirect is not followed (no open redirect)", func(t *testing.T) {
		h := setup(t, "octo")
		state, c := start(t, h, "//evil.example/phish")
		rec := callback(h, "code=good-code&state="+state, c)
		if got := rec.Header().Get("Location"); got != "http://dispatchoor.test/" {
			t.Fatalf("redirected to %q", got)
		}
	})
	t.Run("a state from another browser is refused", func(t *testing.T) {
		h := setup(t, "octo")
		_, c := start(t, h, "/")
		otherState, _ := start(t, h, "/")
		if rec := callback(h, "code=good-code&state="+otherState, c); rec.Code != 400 || decodeErr(t, rec).Field != "state" {
			t.Fatalf("mismatched state: %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("a callback without the state cookie is refused", func(t *testing.T) {
		h := setup(t, "octo")
		state, _ := start(t, h, "/")
		if rec := callback(h, "code=good-code&state="+state, nil); rec.Code != 400 {
			t.Fatalf("no cookie: %d", rec.Code)
		}
	})
	t.Run("a user mapped to nothing is refused", func(t *testing.T) {
		h := setup(t, "octo")
		h.srv.oauth.orgs = map[string]string{}
		state, c := start(t, h, "/")
		rec := callback(h, "code=good-code&state="+state, c)
		if rec.Code != 403 {
			t.Fatalf("unmapped: %d %s", rec.Code, rec.Body.String())
		}
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == sessionCookie && ck.Value != "" {
				t.Fatal("unmapped user got a session")
			}
		}
	})
	t.Run("a GitHub login cannot take over a password user", func(t *testing.T) {
		h := setup(t, "admin")
		state, c := start(t, h, "/")
		if rec := callback(h, "code=good-code&state="+state, c); rec.Code != 403 {
			t.Fatalf("takeover: %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("a browser is sent back to the login page with the error's code", func(t *testing.T) {
		browser := func(h *harness, query string, c *http.Cookie) *httptest.ResponseRecorder {
			r := h.request(anonymous, "GET", "/api/v1/auth/github/callback?"+query, nil)
			r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			// Neither may choose where the browser goes.
			r.Host = "evil.example"
			r.Header.Set("X-Forwarded-Host", "evil.example")
			if c != nil {
				r.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, r)
			return rec
		}
		for _, tc := range []struct {
			name  string
			login string
			call  func(t *testing.T, h *harness) *httptest.ResponseRecorder
			code  string
		}{
			{"state from another browser", "octo", func(t *testing.T, h *harness) *httptest.ResponseRecorder {
				_, c := start(t, h, "/")
				other, _ := start(t, h, "/")
				return browser(h, "code=good-code&state="+other, c)
			}, "state_mismatch"},
			{"no login started in this browser", "octo", func(t *testing.T, h *harness) *httptest.ResponseRecorder {
				state, _ := start(t, h, "/")
				return browser(h, "code=good-code&state="+state, nil)
			}, "state_mismatch"},
			{"the user declined on GitHub", "octo", func(t *testing.T, h *harness) *httptest.ResponseRecorder {
				state, c := start(t, h, "/")
				return browser(h, "error=access_denied&state="+state, c)
			}, "oauth_denied"},
			{"GitHub refused the code", "octo", func(t *testing.T, h *harness) *httptest.ResponseRecorder {
				state, c := start(t, h, "/")
				return browser(h, "code=bad-code&state="+state, c)
			}, "github_error"},
			{"the account maps to no role", "octo", func(t *testing.T, h *harness) *httptest.ResponseRecorder {
				h.srv.oauth.orgs = map[string]string{}
				state, c := start(t, h, "/")
				return browser(h, "code=good-code&state="+state, c)
			}, "not_mapped"},
			{"the login belongs to a password user", "admin", func(t *testing.T, h *harness) *httptest.ResponseRecorder {
				state, c := start(t, h, "/")
				return browser(h, "code=good-code&state="+state, c)
			}, "name_taken"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := setup(t, tc.login)
				rec := tc.call(t, h)
				want := "http://dispatchoor.test/login?error=" + tc.code
				if rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
					t.Fatalf("%d Location %q, want 302 to %q: %s", rec.Code, rec.Header().Get("Location"), want, rec.Body.String())
				}
				for _, ck := range rec.Result().Cookies() {
					if ck.Name == sessionCookie && ck.Value != "" {
						t.Fatal("a failed login set a session cookie")
					}
				}
			})
		}
	})
	t.Run("an API client still gets the JSON error", func(t *testing.T) {
		h := setup(t, "octo")
		_, c := start(t, h, "/")
		other, _ := start(t, h, "/")
		r := h.request(anonymous, "GET", "/api/v1/auth/github/callback?code=good-code&state="+other, nil)
		r.Header.Set("Accept", "application/json")
		r.AddCookie(c)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		if e := decodeErr(t, rec); rec.Code != 400 || e.Code != "state_mismatch" || e.Field != "state" {
			t.Fatalf("%d %s, want 400 state_mismatch", rec.Code, rec.Body.String())
		}
	})
	t.Run("a browser starting a disabled GitHub login lands on the login page", func(t *testing.T) {
		h := newHarness(t, storetest.SQLite(t), harnessOpts{})
		r := h.request(anonymous, "GET", "/api/v1/auth/github", nil)
		r.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != "http://dispatchoor.test/login?error=not_enabled" {
			t.Fatalf("%d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("disabled GitHub login is a 404", func(t *testing.T) {
		h := newHarness(t, storetest.SQLite(t), harnessOpts{})
		if rec := h.do(anonymous, "GET", "/api/v1/auth/github", nil); rec.Code != 404 {
			t.Fatalf("%d", rec.Code)
		}
	})
}

func TestAcceptsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": true,
		"application/xhtml+xml":                 true,
		"TEXT/HTML":                             true,
		"application/json":                      false,
		"":                                      false,
		"*/*":                                   false,
		"text/html;q=0, application/json":       false,
		"application/json, text/html;q=0.1":     true,
		"text/htmlx":                            false,
		"garbage;;;=, text/plain; charset=utf8": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := acceptsHTML(r); got != want {
			t.Errorf("Accept %q: acceptsHTML = %t, want %t", accept, got, want)
		}
	}
}

// FuzzAcceptsHTML: any Accept header is handled without panicking, and only
// one that names an HTML type can turn an error into a redirect.
func FuzzAcceptsHTML(f *testing.F) {
	for _, s := range []string{"text/html", "text/html;q=0", "*/*", "application/json, text/html;q=0.5", ";;;", "text/html;q=NaN", "text/html;q=1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if acceptsHTML(r) && !strings.Contains(strings.ToLower(accept), "html") {
			t.Fatalf("Accept %q counted as HTML", accept)
		}
	})
}
