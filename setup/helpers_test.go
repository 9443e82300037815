package setup_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/secretbox"
	"github.com/ethpandaops/dispatchoor/setup"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is dispatchoor's setup handler served over HTTP next to a simulated
// GitHub, on a real store.
type env struct {
	t     *testing.T
	sim   *ghsim.Sim
	st    *store.Store
	box   *secretbox.Box
	clock *clock
	srv   *httptest.Server
	h     *setup.Handler
	// base is the public URL: srv.URL, or srv.URL plus a path prefix that
	// srv strips like a reverse proxy would.
	base string

	mu         sync.Mutex
	configured []setup.Credentials
}

func newBox(t testing.TB) *secretbox.Box {
	t.Helper()
	key := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	b, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newEnv(t *testing.T, st *store.Store, tweak func(*setup.Options)) *env {
	t.Helper()
	e := &env{t: t, sim: ghsimtest.New(t, ghsim.Options{}), st: st, box: newBox(t),
		clock: &clock{t: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}}
	var h http.Handler = http.NotFoundHandler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	opts := setup.Options{
		Store: st, Box: e.box, WebURL: e.sim.BaseURL(), APIURL: e.sim.APIURL(), PublicURL: e.srv.URL,
		Now: e.clock.Now,
		OnConfigured: func(c setup.Credentials) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.configured = append(e.configured, c)
		},
	}
	if tweak != nil {
		tweak(&opts)
	}
	sh, err := setup.New(opts)
	if err != nil {
		t.Fatalf("setup.New: %v", err)
	}
	e.h, h, e.base = sh, sh, strings.TrimRight(opts.PublicURL, "/")
	if prefix := strings.TrimPrefix(e.base, e.srv.URL); prefix != "" {
		h = http.StripPrefix(prefix, sh)
	}
	return e
}

func (e *env) onConfiguredCalls() []setup.Credentials {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]setup.Credentials(nil), e.configured...)
}

// browser is a client with its own cookie jar that never follows
// redirects, so every hop can be checked.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t testing.TB, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var formRE = regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<input type="hidden" name="manifest" value="([^"]+)">`)

// openSetup loads /setup in the browser and returns the form's target and
// the manifest JSON it would post.
func (e *env) openSetup(b *http.Client, query string) (action, manifest string) {
	e.t.Helper()
	resp, body := do(e.t, b, "GET", e.base+"/setup"+query, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /setup%s: %d %s", query, resp.StatusCode, body)
	}
	m := formRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("GET /setup: no manifest form in\n%s", body)
	}
	return html.UnescapeString(m[1]), html.UnescapeString(m[2])
}

// submit posts the manifest form to the simulated GitHub, which creates the
// App and answers with the redirect to our callback; it returns that URL.
func (e *env) submit(b *http.Client, action, manifest string) string {
	e.t.Helper()
	resp, body := do(e.t, b, "POST", action, url.Values{"manifest": {manifest}})
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("POST %s: %d %s", action, resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, e.base+"/api/v1/setup/callback?") {
		e.t.Fatalf("GitHub redirected to %q, want our callback", loc)
	}
	return loc
}

// apiError decodes the {"error", "code"} shape.
func apiError(t testing.TB, body string) (msg, code string) {
	t.Helper()
	var v struct{ Error, Code string }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return v.Error, v.Code
}

// withQuery replaces one query parameter of u.
func withQuery(t testing.TB, u, key, value string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set(key, value)
	p.RawQuery = q.Encode()
	return p.String()
}
