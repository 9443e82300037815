package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/hub"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/secretbox"
	"github.com/ethpandaops/dispatchoor/store"
)

const (
	adminPass  = "admin-password-1"
	viewerPass = "viewer-password-1"
	testGroup  = "g1"
	otherGroup = "g2"
	testTmpl   = "t1"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	t       *testing.T
	srv     *Server
	hub     *hub.Hub
	st      *store.Store
	q       *queue.Service
	metrics *metrics.Metrics
	logs    *syncBuffer
	cfg     *config.Config
}

type harnessOpts struct {
	mutate func(c *config.Config)
	hub    hub.Options
	// noStart skips Start (basic users not synced).
	noStart bool
	// options adjusts the server's Options before New.
	options func(o *Options)
}

// testConfig has an admin with a plaintext password, a readonly user with
// a bcrypt hash, and no rate limits (tests that need them set them).
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	c := config.Default()
	c.Server.PublicURL = "http://dispatchoor.test"
	c.Server.RateLimit = config.RateLimits{}
	h, err := bcrypt.GenerateFromPassword([]byte(viewerPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	c.Auth.Basic.Users = []config.User{
		{Username: "admin", Password: config.Secret(adminPass), Role: config.RoleAdmin},
		{Username: "viewer", PasswordHash: config.Secret(h), Role: config.RoleReadonly},
	}
	return c
}

func newHarness(t *testing.T, st *store.Store, o harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	cfg := testConfig(t)
	if o.mutate != nil {
		o.mutate(cfg)
	}
	_, err := st.SyncConfig(ctx, []core.Group{
		{ID: testGroup, Name: "Group One", RunnerLabels: []string{"self-hosted", "one"}, Enabled: true},
		{ID: otherGroup, Name: "Group Two", RunnerLabels: []string{"self-hosted", "two"}, Enabled: true},
	}, []core.Template{
		{ID: testTmpl, GroupID: testGroup, Name: "Template One", Owner: "my-org", Repo: "tests", WorkflowID: "ci.yml", Ref: "main",
			Inputs: map[string]string{"network": "hoodi"}, Source: core.TemplateSource{Kind: core.SourceInline}},
	})
	if err != nil {
		t.Fatalf("sync config: %v", err)
	}
	if err := st.UpsertInstallation(ctx, store.Installation{ID: 7, AccountLogin: "my-org", AccountType: "Organization", RepositorySelection: "all"}); err != nil {
		t.Fatalf("installation: %v", err)
	}
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	m := metrics.New()
	ho := o.hub
	ho.Logger, ho.Metrics, ho.Store, ho.JobView = log, m, st, JobView
	wsHub := hub.New(ho)
	q, err := queue.New(queue.Options{Store: st, Logger: log, Events: wsHub})
	if err != nil {
		t.Fatal(err)
	}
	so := Options{
		Logger: log, Store: st, Version: "test", Config: cfg, Queue: q, Metrics: m, Hub: wsHub,
		BcryptCost: bcrypt.MinCost, TokenSealer: testSealer(t),
	}
	if o.options != nil {
		o.options(&so)
	}
	srv := New(so)
	t.Cleanup(func() { _ = srv.Close() })
	if !o.noStart {
		if err := srv.Start(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
	}
	return &harness{t: t, srv: srv, hub: wsHub, st: st, q: q, metrics: m, logs: logs, cfg: cfg}
}

// caller is how a request authenticates.
type caller struct {
	name   string
	cookie string // session cookie value
	token  string // bearer token
	noCSRF bool
}

var anonymous = caller{name: "anonymous"}

// session creates a session straight in the store (no login round trip).
func (h *harness) session(username string) caller {
	h.t.Helper()
	raw := newSecret()
	if _, err := h.st.CreateSession(context.Background(), store.Session{
		Hash: store.HashSecret(raw), Username: username, ExpiresAt: h.srv.now().Add(h.cfg.Auth.SessionTTL),
	}); err != nil {
		h.t.Fatalf("session for %s: %v", username, err)
	}
	return caller{name: username + " (session)", cookie: raw}
}

func (h *harness) token(name, role string) caller {
	h.t.Helper()
	raw := tokenPrefix + newSecret()
	if _, err := h.st.CreateToken(context.Background(), store.NewToken{Name: name, Role: role, Hash: store.HashSecret(raw), CreatedBy: "admin"}); err != nil {
		h.t.Fatalf("token %s: %v", name, err)
	}
	return caller{name: name + " (token)", token: raw}
}

func (h *harness) request(c caller, method, path string, body any) *http.Request {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				h.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = "192.0.2.10:5555"
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.cookie})
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	if !c.noCSRF && c.token == "" {
		r.Header.Set(csrfHeader, csrfValue)
	}
	return r
}

func (h *harness) do(c caller, method, path string, body any) *httptest.ResponseRecorder {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, h.request(c, method, path, body))
	return rec
}

// doJSON asserts the status and decodes the body into out (if non-nil).
func (h *harness) doJSON(c caller, method, path string, body any, want int, out any) {
	h.t.Helper()
	rec := h.do(c, method, path, body)
	if rec.Code != want {
		h.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, c.name, rec.Code, want, rec.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			h.t.Fatalf("%s %s: decode %T: %v: %s", method, path, out, err, rec.Body.String())
		}
	}
}

func decodeErr(t *testing.T, rec *httptest.ResponseRecorder) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Msg == "" {
		t.Fatalf("want an {error, code} body, got %d %q (%v)", rec.Code, rec.Body.String(), err)
	}
	return e
}

// enqueue puts a template job into the test group as admin.
func (h *harness) enqueue(admin caller, position string) jobJSON {
	h.t.Helper()
	var j jobJSON
	h.doJSON(admin, "POST", "/api/v1/groups/"+testGroup+"/queue", map[string]any{"template_id": testTmpl, "position": position}, http.StatusCreated, &j)
	return j
}

func h12Logger() zerolog.Logger { return zerolog.Nop() }

func scrapeMetrics(t *testing.T, h *harness) string {
	t.Helper()
	rec := h.do(anonymous, "GET", "/metrics", nil)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// testSealer is a secretbox with a fresh random key, as
// DISPATCHOOR_SECRET_KEY gives in production.
func testSealer(t testing.TB) *secretbox.Box {
	t.Helper()
	key := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}
