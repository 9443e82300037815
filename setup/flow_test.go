package setup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"

	"github.com/ethpandaops/dispatchoor/setup"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestSetupCreatesTheAppThroughTheManifestFlow(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		b := browser(t)

		resp, body := do(t, b, "GET", e.base+"/api/v1/setup/status", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"configured":false`) {
			t.Fatalf("status before setup: %d %s", resp.StatusCode, body)
		}

		action, manifest := e.openSetup(b, "")
		if !strings.HasPrefix(action, e.sim.BaseURL()+"/settings/apps/new?state=") {
			t.Fatalf("form posts to %q, want GitHub's /settings/apps/new with a state", action)
		}
		want, err := setup.Manifest(e.base)
		if err != nil {
			t.Fatal(err)
		}
		assertSameJSON(t, "form manifest", manifest, string(want))

		callback := e.submit(b, action, manifest)
		resp, body = do(t, b, "GET", callback, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != e.base+"/" {
			t.Fatalf("callback: %d Location=%q %s, want 303 to the public URL", resp.StatusCode, resp.Header.Get("Location"), body)
		}

		calls := e.onConfiguredCalls()
		if len(calls) != 1 {
			t.Fatalf("OnConfigured called %d times, want 1", len(calls))
		}
		creds := calls[0]
		if creds.AppID == 0 || creds.Slug != setup.DefaultAppName(e.base) || creds.WebhookSecret == "" ||
			creds.ClientID == "" || creds.ClientSecret == "" || !strings.Contains(creds.PrivateKeyPEM, "PRIVATE KEY") {
			t.Fatalf("credentials incomplete: app %d slug %q", creds.AppID, creds.Slug)
		}
		// The stored key really is the new App's: GitHub accepts its JWT.
		assertAppJWTWorks(t, e, creds)

		raw, err := st.GetSecret(ctx, setup.SecretKey)
		if err != nil {
			t.Fatalf("nothing stored: %v", err)
		}
		for name, secret := range map[string]string{"private key": creds.PrivateKeyPEM, "webhook secret": creds.WebhookSecret,
			"client secret": creds.ClientSecret, "pem body": strings.Split(creds.PrivateKeyPEM, "\n")[1]} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("stored bytes contain the %s in clear", name)
			}
		}

		loaded, ok, err := setup.Load(ctx, st, e.box)
		if err != nil || !ok || !reflect.DeepEqual(loaded, creds) {
			t.Fatalf("Load = %v %v %v, want the converted credentials", loaded, ok, err)
		}
		if _, _, err := setup.Load(ctx, st, newBox(t)); err == nil || !strings.Contains(err.Error(), "DISPATCHOOR_SECRET_KEY") {
			t.Fatalf("Load with another key: %v, want an error naming DISPATCHOOR_SECRET_KEY", err)
		}

		resp, body = do(t, b, "GET", e.base+"/api/v1/setup/status", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"configured":true`) || !strings.Contains(body, `"source":"database"`) {
			t.Fatalf("status after setup: %d %s", resp.StatusCode, body)
		}

		// Once configured, nothing can run setup again: not the replayed
		// callback, not a new form, not from a fresh browser.
		for _, u := range []string{callback, e.base + "/setup", e.base + "/setup?org=other", e.base + "/api/v1/setup/manifest"} {
			for _, c := range []*http.Client{b, browser(t)} {
				resp, body := do(t, c, "GET", u, nil)
				if _, code := apiError(t, body); resp.StatusCode != http.StatusConflict || code != "already_configured" {
					t.Fatalf("GET %s after setup: %d %s, want 409 already_configured", u, resp.StatusCode, body)
				}
			}
		}
		if again, _ := st.GetSecret(ctx, setup.SecretKey); !bytes.Equal(again, raw) {
			t.Fatal("stored credentials changed after setup was refused")
		}
		if n := len(e.onConfiguredCalls()); n != 1 {
			t.Fatalf("OnConfigured called %d times, want 1", n)
		}
	})
}

func assertAppJWTWorks(t *testing.T, e *env, creds setup.Credentials) {
	t.Helper()
	tr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, creds.AppID, []byte(creds.PrivateKeyPEM))
	if err != nil {
		t.Fatalf("stored private key is unusable: %v", err)
	}
	resp, body := do(t, &http.Client{Transport: tr}, "GET", e.sim.APIURL()+"app", nil)
	var app struct {
		ID    int64
		Slug  string
		Owner struct{ Login string }
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &app) != nil || app.ID != creds.AppID || app.Slug != creds.Slug {
		t.Fatalf("GET /app as the new App: %d %s", resp.StatusCode, body)
	}
}

func assertSameJSON(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestSetupForAnOrganization(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), nil)
	b := browser(t)
	action, manifest := e.openSetup(b, "?org=my-org&name=Pandaops+Dispatch")
	if !strings.HasPrefix(action, e.sim.BaseURL()+"/organizations/my-org/settings/apps/new?state=") {
		t.Fatalf("org form posts to %q", action)
	}
	if !strings.Contains(manifest, `"name":"Pandaops Dispatch"`) {
		t.Fatalf("chosen name missing from manifest: %s", manifest)
	}
	resp, body := do(t, b, "GET", e.submit(b, action, manifest), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	calls := e.onConfiguredCalls()
	if len(calls) != 1 || calls[0].Slug != "pandaops-dispatch" {
		t.Fatalf("OnConfigured calls = %v", calls)
	}
	tr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, calls[0].AppID, []byte(calls[0].PrivateKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	_, body = do(t, &http.Client{Transport: tr}, "GET", e.sim.APIURL()+"app", nil)
	if !strings.Contains(body, `"login":"my-org"`) {
		t.Fatalf("App should belong to my-org: %s", body)
	}

	for _, bad := range []string{"?org=../evil", "?org=-x", "?org=a%2Fb", "?name=" + strings.Repeat("x", 35)} {
		e2 := newEnv(t, storetest.SQLite(t), nil)
		resp, body := do(t, browser(t), "GET", e2.base+"/setup"+bad, nil)
		if _, code := apiError(t, body); resp.StatusCode != http.StatusBadRequest || code != "bad_request" {
			t.Fatalf("GET /setup%s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
}

func TestSetupRefusedWhenTheConfigCarriesAnApp(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(opts *setup.Options) { opts.ConfigHasApp, opts.Box = true, nil })
	for _, p := range []string{"/setup", "/api/v1/setup/manifest", "/api/v1/setup/callback?code=x&state=y"} {
		resp, body := do(t, browser(t), "GET", e.base+p, nil)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("GET %s: %d %s, want 409", p, resp.StatusCode, body)
		}
	}
	resp, body := do(t, browser(t), "GET", e.base+"/api/v1/setup/status", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"source":"config"`) || !strings.Contains(body, `"configured":true`) {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
}

func TestAuthorizeGuardsEverythingButStatus(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(opts *setup.Options) {
		opts.Authorize = func(r *http.Request) error {
			if r.Header.Get("X-Admin") != "yes" {
				return errors.New("log in as an admin")
			}
			return nil
		}
	})
	for _, p := range []string{"/setup", "/api/v1/setup/manifest", "/api/v1/setup/callback?code=x&state=y"} {
		if resp, body := do(t, browser(t), "GET", e.base+p, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET %s without admin: %d %s, want 401", p, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, browser(t), "GET", e.base+"/api/v1/setup/status", nil); resp.StatusCode != 200 {
		t.Fatalf("status must stay public: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", e.base+"/api/v1/setup/manifest?org=my-org", nil)
	req.Header.Set("X-Admin", "yes")
	resp, err := browser(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Action   string
		Manifest map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 ||
		!strings.HasPrefix(m.Action, e.sim.BaseURL()+"/organizations/my-org/settings/apps/new?state=") || m.Manifest["redirect_url"] != e.base+"/api/v1/setup/callback" {
		t.Fatalf("manifest API as admin: %d %+v %v", resp.StatusCode, m, err)
	}
	if c := resp.Cookies(); len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("state cookie = %+v, want one HttpOnly SameSite=Lax cookie", c)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	st := storetest.SQLite(t)
	box := newBox(t)
	good := setup.Options{Store: st, Box: box, WebURL: "https://github.com", APIURL: "https://api.github.com/", PublicURL: "https://d.example.com"}
	cases := map[string]func(opts *setup.Options){
		"no store":              func(opts *setup.Options) { opts.Store = nil },
		"no box":                func(opts *setup.Options) { opts.Box = nil },
		"relative public url":   func(opts *setup.Options) { opts.PublicURL = "/x" },
		"public url with query": func(opts *setup.Options) { opts.PublicURL = "https://d.example.com/?next=evil" },
		"web url not http":      func(opts *setup.Options) { opts.WebURL = "ftp://github.com" },
		"no api url":            func(opts *setup.Options) { opts.APIURL = "" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			opts := good
			mutate(&opts)
			if _, err := setup.New(opts); err == nil {
				t.Fatal("New accepted bad options")
			}
		})
	}
	if _, err := setup.New(good); err != nil {
		t.Fatalf("good options: %v", err)
	}
}

// Behind a reverse proxy that serves dispatchoor under a path, the state
// cookie must be scoped to the path the browser sees, or it never comes back.
func TestSetupBehindAPathPrefix(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(opts *setup.Options) { opts.PublicURL += "/dispatchoor/" })
	if !strings.HasSuffix(e.base, "/dispatchoor") {
		t.Fatalf("base = %q", e.base)
	}
	b := browser(t)
	action, manifest := e.openSetup(b, "")
	if !strings.Contains(manifest, `"redirect_url":"`+e.base+`/api/v1/setup/callback"`) {
		t.Fatalf("redirect_url ignores the prefix: %s", manifest)
	}
	resp, body := do(t, b, "GET", e.submit(b, action, manifest), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != e.base+"/" {
		t.Fatalf("callback: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func TestSetupRoutesAnswerGETOnly(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), nil)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/setup", http.StatusMethodNotAllowed},
		{"DELETE", "/api/v1/setup/status", http.StatusMethodNotAllowed},
		{"GET", "/api/v1/setup/nope", http.StatusNotFound},
	} {
		resp, body := do(t, browser(t), tc.method, e.base+tc.path, url.Values{})
		if _, code := apiError(t, body); resp.StatusCode != tc.want || code == "" {
			t.Errorf("%s %s: %d %s, want %d with a JSON error", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
	}
}
