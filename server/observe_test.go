package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// The request log has method, path, status, duration, client and user, and
// never a password, cookie, token or Authorization header.
func TestRequestLogNeverHoldsSecrets(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	rec := login(h, "admin", adminPass)
	cookie := sessionFrom(t, rec).Value
	var tok createdToken
	h.doJSON(caller{name: "admin", cookie: cookie}, "POST", "/api/v1/tokens", map[string]string{"name": "logged", "role": "admin"}, 201, &tok)
	h.doJSON(caller{name: "token", token: tok.Token}, "GET", "/api/v1/groups", nil, 200, nil)
	h.do(anonymous, "GET", "/api/v1/auth/me?token="+tok.Token+"&session="+cookie, nil)
	h.do(caller{name: "bad token", token: "dpt_wrong-secret-value"}, "GET", "/api/v1/groups", nil)
	login(h, "admin", "wrong-password-value")

	logs := h.logs.String()
	for _, secret := range []string{adminPass, cookie, tok.Token, "dpt_wrong-secret-value", "wrong-password-value", "Bearer", sessionCookie + "=", "Cookie", "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if e["message"] == "request" && e["path"] == "/api/v1/groups" && e["user"] == "token:logged" {
			found = true
			for _, k := range []string{"method", "status", "duration", "client", "component"} {
				if _, ok := e[k]; !ok {
					t.Errorf("request log line lacks %q: %s", k, line)
				}
			}
		}
	}
	if !found {
		t.Fatalf("no request line for the token's GET /api/v1/groups in:\n%s", logs)
	}
}

type fakeStatus struct{ last time.Time }

func (f fakeStatus) DispatcherStatus() DispatcherStatus {
	return DispatcherStatus{Enabled: true, Leader: true, LastCycle: &f.last}
}

type fakeRates map[int64]int

func (f fakeRates) RateLimits() map[int64]int { return f }

func TestStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		last := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		h.srv.opts.Status = fakeStatus{last: last}
		h.srv.opts.RateLimits = fakeRates{7: 4321}
		admin := h.session("admin")
		h.enqueue(admin, "bottom")
		var s statusResponse
		h.doJSON(h.session("viewer"), "GET", "/api/v1/status", nil, 200, &s)
		if !s.Database.OK || s.Database.Driver != string(st.Driver()) || s.Version != "test" {
			t.Fatalf("database/version: %+v %q", s.Database, s.Version)
		}
		if s.Dispatcher == nil || !s.Dispatcher.Leader || !s.Dispatcher.LastCycle.Equal(last) {
			t.Fatalf("dispatcher: %+v", s.Dispatcher)
		}
		if len(s.Installations) != 1 || s.Installations[0].RateLimitRemaining == nil || *s.Installations[0].RateLimitRemaining != 4321 {
			t.Fatalf("installations: %+v", s.Installations)
		}
		if len(s.Queues) != 1 || s.Queues[0].Count != 1 || s.Queues[0].Status != "pending" {
			t.Fatalf("queues: %+v", s.Queues)
		}
	})
}

// After a simulated run through the API, the scrape shows each series the
// server is responsible for moved.
func TestMetricsMoveWithTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		j := h.enqueue(admin, "bottom")
		h.enqueue(admin, "bottom")
		h.doJSON(admin, "POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", j.ID), nil, 200, nil)
		if _, err := st.ReplaceScopeRunners(context.Background(), store.ScopeListing{Scope: "org:my-org", InstallationID: 7, Runners: []core.Runner{
			{ID: 1, Name: "r1", Scope: "org:my-org", Labels: []string{"one"}, Status: core.RunnerOnline, Busy: true},
			{ID: 2, Name: "r2", Scope: "org:my-org", Labels: []string{"one"}, Status: core.RunnerOnline},
			{ID: 3, Name: "r3", Scope: "org:my-org", Labels: []string{"one"}, Status: core.RunnerOffline},
		}}); err != nil {
			t.Fatal(err)
		}
		h.hub.RunnerChanged(core.Runner{ID: 1, Name: "r1", Status: core.RunnerOnline, Busy: true})
		// A job announced as running twice (start, then a cancel request)
		// is one wait observation.
		started := time.Now()
		running := core.Job{ID: 99, GroupID: testGroup, Status: core.StatusRunning, CreatedAt: started.Add(-3 * time.Second), StartedAt: &started}
		h.hub.JobChanged(running)
		running.CancelRequested = true
		h.hub.JobChanged(running)
		want := []string{
			"dispatchoor_runners_online 2",
			"dispatchoor_runners_busy 1",
			"dispatchoor_runners_idle 1",
			"dispatchoor_job_wait_seconds_count 1",
			`dispatchoor_jobs_created_total{group="g1"} 2`,
			`dispatchoor_jobs_cancelled_total{group="g1"} 1`,
			`dispatchoor_queue_size{group="g1",status="pending"} 1`,
			`dispatchoor_http_requests_total{code="201",route="POST /api/v1/groups/{id}/queue"} 2`,
		}
		waitFor(t, func() bool {
			m := scrapeMetrics(t, h)
			for _, w := range want {
				if !strings.Contains(m, w) {
					return false
				}
			}
			return true
		})
		h.hub.Flush()
		if m := scrapeMetrics(t, h); !strings.Contains(m, "dispatchoor_job_wait_seconds_count 1") {
			t.Fatalf("job wait observed more than once:\n%s", grep(m, "job_wait_seconds_count"))
		}
	})
}

func TestHealth(t *testing.T) {
	st := storetest.SQLite(t)
	h := newHarness(t, st, harnessOpts{})
	h.doJSON(anonymous, "GET", "/health", nil, 200, nil)
	_ = st.Close()
	if rec := h.do(anonymous, "GET", "/health", nil); rec.Code != 503 {
		t.Fatalf("closed database: %d", rec.Code)
	}
	t.Run("draining answers 503 draining", func(t *testing.T) {
		var draining atomic.Bool
		h := newHarness(t, storetest.SQLite(t), harnessOpts{options: func(o *Options) { o.Draining = draining.Load }})
		h.doJSON(anonymous, "GET", "/health", nil, 200, nil)
		draining.Store(true)
		var body map[string]string
		h.doJSON(anonymous, "GET", "/health", nil, 503, &body)
		if body["status"] != "draining" {
			t.Fatalf("health while draining: %v", body)
		}
	})
}
