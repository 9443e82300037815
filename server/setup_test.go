package server

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/secretbox"
	"github.com/ethpandaops/dispatchoor/setup"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// setupHarness mounts the real setup handler the way cmd does: its
// Authorize is the server's AuthorizeAdmin.
func setupHarness(t *testing.T, st *store.Store, mutate func(c *config.Config)) *harness {
	t.Helper()
	key := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	var srv atomic.Pointer[Server]
	sh, err := setup.New(setup.Options{
		Store: st, Box: box, WebURL: "https://github.example", APIURL: "https://api.github.example/",
		PublicURL: "http://dispatchoor.test",
		Authorize: func(r *http.Request) error { return srv.Load().AuthorizeAdmin(r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, harnessOpts{mutate: mutate, options: func(o *Options) {
		o.Setup = sh
		o.UI = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("the UI")) })
	}})
	srv.Store(h.srv)
	return h
}

func TestSetupRoutes(t *testing.T) {
	doc := loadSpec(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := setupHarness(t, st, nil)
		for _, tc := range []struct {
			name   string
			c      caller
			path   string
			want   int
			inBody string
		}{
			{"status answers anyone", anonymous, "/api/v1/setup/status", 200, `"configured":false`},
			{"the page needs a login", anonymous, "/setup", 401, "administrator"},
			{"a readonly session cannot run setup", h.session("viewer"), "/setup", 401, "admin role"},
			{"a readonly token cannot run setup", h.token("ro", roleReadonly), "/api/v1/setup/manifest", 401, "admin role"},
			{"an unknown token is refused", caller{name: "forged", token: "dpt_nope"}, "/setup", 401, "unknown or revoked"},
			{"an admin session gets the page, not the UI", h.session("admin"), "/setup", 200, "<form"},
			{"an admin token gets the manifest", h.token("setup-admin", roleAdmin), "/api/v1/setup/manifest", 200, `"action":"https://github.example/settings/apps/new?state=`},
			{"a callback without code or state is refused", h.session("admin"), "/api/v1/setup/callback", 400, "code and state"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.request(tc.c, "GET", tc.path, nil)
				_, pattern := h.srv.mux.Handler(r)
				rec := httptest.NewRecorder()
				h.srv.ServeHTTP(rec, r)
				if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.inBody) {
					t.Fatalf("%d %s, want %d containing %q", rec.Code, rec.Body.String(), tc.want, tc.inBody)
				}
				if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
					checkAgainstSpec(t, doc, pattern, rec)
				}
			})
		}
	})
}

func TestSetupRoutesWithoutSetupMode(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	for _, p := range []string{"/setup", "/api/v1/setup/status", "/api/v1/setup/manifest", "/api/v1/setup/callback"} {
		rec := h.do(h.session("admin"), "GET", p, nil)
		if rec.Code != 404 || decodeErr(t, rec).Code != "not_enabled" {
			t.Fatalf("%s: %d %s, want 404 not_enabled", p, rec.Code, rec.Body.String())
		}
	}
}

func TestSetupRoutesAreUnderTheAuthRateLimit(t *testing.T) {
	h := setupHarness(t, storetest.SQLite(t), func(c *config.Config) { c.Server.RateLimit.Auth.RequestsPerMinute = 2 })
	var got []int
	for range 3 {
		got = append(got, h.do(anonymous, "GET", "/api/v1/setup/status", nil).Code)
	}
	if got[0] != 200 || got[1] != 200 || got[2] != 429 {
		t.Fatalf("codes %v, want [200 200 429]", got)
	}
	// The page shares the budget: setup is a login-like surface.
	if c := h.do(anonymous, "GET", "/setup", nil).Code; c != 429 {
		t.Fatalf("/setup after the budget: %d, want 429", c)
	}
}

func TestWebhooksWaitForSetup(t *testing.T) {
	var ready atomic.Bool
	var calls atomic.Int32
	hook := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	for _, tc := range []struct {
		name      string
		opts      func(o *Options)
		ready     bool
		want      int
		wantCalls int32
	}{
		{"not ready: 503 and the handler is not called", func(o *Options) { o.Webhooks, o.WebhooksReady = hook, ready.Load }, false, 503, 0},
		{"ready: the handler answers", func(o *Options) { o.Webhooks, o.WebhooksReady = hook, ready.Load }, true, 202, 1},
		{"no readiness check: the handler answers", func(o *Options) { o.Webhooks = hook }, false, 202, 1},
		{"ready but no handler yet: 503", func(o *Options) { o.WebhooksReady = ready.Load }, true, 503, 0},
		{"no webhooks at all: JSON 404", nil, false, 404, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready.Store(tc.ready)
			calls.Store(0)
			h := newHarness(t, storetest.SQLite(t), harnessOpts{options: tc.opts})
			rec := h.do(anonymous, "POST", "/api/github/hook", `{"zen":"hi"}`)
			if rec.Code != tc.want || calls.Load() != tc.wantCalls {
				t.Fatalf("%d %s with %d handler calls, want %d with %d", rec.Code, rec.Body.String(), calls.Load(), tc.want, tc.wantCalls)
			}
			if tc.want == 503 {
				var e apiError
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code != "setup_required" || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("503 body %q (%v), Retry-After %q; want code setup_required", rec.Body.String(), err, rec.Header().Get("Retry-After"))
				}
			}
		})
	}
}

// An address that keeps failing the signature gets 429 without its body
// being read, for the rest of the minute; other addresses and successful
// deliveries are not limited.
func TestWebhookSignatureFailuresAreRateLimited(t *testing.T) {
	var calls atomic.Int32
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-Hub-Signature-256") == "good" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	now := time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC)
	h := newHarness(t, storetest.SQLite(t), harnessOpts{
		options: func(o *Options) { o.Webhooks = hook; o.Now = func() time.Time { return now } },
		mutate:  func(c *config.Config) { c.Server.RateLimit.WebhookFailures.RequestsPerMinute = 3 },
	})
	post := func(addr, sig string) *httptest.ResponseRecorder {
		r := h.request(anonymous, "POST", "/api/github/hook", `{"zen":"hi"}`)
		r.RemoteAddr = addr + ":4242"
		r.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		return rec
	}
	for range 3 {
		if c := post("192.0.2.1", "bad").Code; c != 401 {
			t.Fatalf("failure within the limit: %d, want 401", c)
		}
	}
	before := calls.Load()
	rec := post("192.0.2.1", "good")
	if rec.Code != 429 || calls.Load() != before {
		t.Fatalf("after 3 failures: %d with the handler called %d more times; want 429 unread", rec.Code, calls.Load()-before)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "55" || !strings.Contains(decodeErr(t, rec).Msg, "55 s") {
		t.Fatalf("Retry-After %q, message %q; want 55 s", ra, rec.Body.String())
	}
	if c := post("192.0.2.2", "good").Code; c != 200 {
		t.Fatalf("another address: %d, want 200", c)
	}
	for range 10 {
		if c := post("192.0.2.3", "good").Code; c != 200 {
			t.Fatalf("successful deliveries are never limited: %d", c)
		}
	}
	now = now.Add(time.Minute)
	if c := post("192.0.2.1", "good").Code; c != 200 {
		t.Fatalf("next minute: %d, want 200", c)
	}
}
