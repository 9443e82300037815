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
	t.Run("disabled GitHub login is a 404", func(t *testing.T) {
		h := newHarness(t, storetest.SQLite(t), harnessOpts{})
		if rec := h.do(anonymous, "GET", "/api/v1/auth/github", nil); rec.Code != 404 {
			t.Fatalf("%d", rec.Code)
		}
	})
}
