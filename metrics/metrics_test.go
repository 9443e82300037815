package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every metric of docs/DEPLOY.md (Metrics) must move when its method is called, and the
// scrape must show the moved series (older versions declared metrics that
// nothing ever updated).
func TestEveryMetricMovesAndIsScraped(t *testing.T) {
	cases := []struct {
		name   string
		update func(m *Metrics)
		series string
	}{
		{"job created", func(m *Metrics) { m.JobCreated("g1") }, `dispatchoor_jobs_created_total{group="g1"} 1`},
		{"job completed", func(m *Metrics) { m.JobFinished("g1", "completed") }, `dispatchoor_jobs_completed_total{group="g1"} 1`},
		{"job failed", func(m *Metrics) { m.JobFinished("g1", "failed") }, `dispatchoor_jobs_failed_total{group="g1"} 1`},
		{"job cancelled", func(m *Metrics) { m.JobFinished("g1", "cancelled") }, `dispatchoor_jobs_cancelled_total{group="g1"} 1`},
		{"queue size", func(m *Metrics) { m.QueueSize("g1", "pending", 7) }, `dispatchoor_queue_size{group="g1",status="pending"} 7`},
		{"runners online", func(m *Metrics) { m.Runners(5, 3, 2) }, `dispatchoor_runners_online 5`},
		{"runners busy", func(m *Metrics) { m.Runners(5, 3, 2) }, `dispatchoor_runners_busy 3`},
		{"runners idle", func(m *Metrics) { m.Runners(5, 3, 2) }, `dispatchoor_runners_idle 2`},
		{"dispatcher cycle", func(m *Metrics) { m.DispatcherCycle() }, `dispatchoor_dispatcher_cycles_total 1`},
		{"dispatch", func(m *Metrics) { m.Dispatch("g1", "ok") }, `dispatchoor_dispatches_total{group="g1",outcome="ok"} 1`},
		{"dispatch latency", func(m *Metrics) { m.DispatchLatency("g1", 15*time.Millisecond) }, `dispatchoor_dispatch_latency_seconds_bucket{le="0.02"} 1`},
		{"job wait", func(m *Metrics) { m.JobWait(3 * time.Second) }, `dispatchoor_job_wait_seconds_count 1`},
		{"webhook delivery", func(m *Metrics) { m.WebhookDelivery("workflow_job", "ok") }, `dispatchoor_webhook_deliveries_total{event="workflow_job",outcome="ok"} 1`},
		{"github request", func(m *Metrics) { m.GitHubRequest("POST /dispatches", 204) }, `dispatchoor_github_api_requests_total{code="204",endpoint="POST /dispatches"} 1`},
		{"rate limit", func(m *Metrics) { m.RateLimitRemaining(42, 4999) }, `dispatchoor_github_rate_limit_remaining{installation="42"} 4999`},
		{"label mismatch", func(m *Metrics) { m.LabelMismatch("g1", "t1") }, `dispatchoor_label_mismatch_total{group="g1",template="t1"} 1`},
		{"http request", func(m *Metrics) { m.HTTPRequest("GET /api/v1/groups", 200) }, `dispatchoor_http_requests_total{code="200",route="GET /api/v1/groups"} 1`},
		{"websocket clients", func(m *Metrics) { m.WebSocketClients(3) }, `dispatchoor_websocket_clients 3`},
		{"cycle done (dispatcher hook)", func(m *Metrics) { m.CycleDone(time.Millisecond) }, `dispatchoor_dispatcher_cycles_total 1`},
		{"dispatched (dispatcher hook)", func(m *Metrics) { m.Dispatched("g1", "triggered") }, `dispatchoor_dispatches_total{group="g1",outcome="triggered"} 1`},
		{"start timed out", func(m *Metrics) { m.StartTimedOut("g1") }, `dispatchoor_start_timeouts_total{group="g1"} 1`},
		{"reconcile failed", func(m *Metrics) { m.Reconciled("org:x", errors.New("boom")) }, `dispatchoor_reconciles_total{outcome="error",scope="org:x"} 1`},
		{"redelivered", func(m *Metrics) { m.Redelivered("workflow_job") }, `dispatchoor_webhook_redeliveries_total{event="workflow_job"} 1`},
		{"delivery (handlers hook)", func(m *Metrics) { m.Delivery("ping", "applied") }, `dispatchoor_webhook_deliveries_total{event="ping",outcome="applied"} 1`},
		{"websocket dropped", func(m *Metrics) { m.WebSocketDropped() }, `dispatchoor_websocket_dropped_total 1`},
		{"replica event dropped", func(m *Metrics) { m.ReplicaEventDropped("job") }, `dispatchoor_replica_events_dropped_total{kind="job"} 1`},
		{"pacer wait", func(m *Metrics) { m.PacerRequest("dispatch", 2*time.Second, false) }, `dispatchoor_github_pacer_wait_seconds_bucket{priority="dispatch",le="2.5"} 1`},
		{"pacer wait of an unknown priority is bounded", func(m *Metrics) { m.PacerRequest("made-up", 0, false) }, `dispatchoor_github_pacer_wait_seconds_count{priority="other"} 1`},
		{"secondary limit refusal", func(m *Metrics) { m.PacerRequest("feedback", 0, true) }, `dispatchoor_github_secondary_limited_total 1`},
		{"pacer waiting", func(m *Metrics) { m.PacerWaiting(func() map[string]int { return map[string]int{"dispatch": 4} }) }, `dispatchoor_github_pacer_waiting{priority="dispatch"} 4`},
		{"job run lands in its minutes bucket", func(m *Metrics) { m.JobRun(25 * time.Minute) }, `dispatchoor_job_run_seconds_bucket{le="1800"} 1`},
		{"last webhook time", func(m *Metrics) { m.WebhookDelivery("workflow_job", "applied") }, `dispatchoor_last_webhook_timestamp_seconds 1.`},
		{"build info", func(m *Metrics) { m.BuildInfo("v1.2.3") }, `dispatchoor_build_info{version="v1.2.3"} 1`},
		{"leader", func(m *Metrics) { m.LeaderWith(func() bool { return true }) }, `dispatchoor_leader 1`},
		{"group runners by state", func(m *Metrics) {
			m.ReadFleetWith(func(context.Context) ([]GroupFleet, error) {
				return []GroupFleet{{Group: "g1", Busy: 2, Idle: 1, Offline: 4}}, nil
			})
		}, `dispatchoor_group_runners{group="g1",state="offline"} 4`},
		{"oldest pending job age", func(m *Metrics) {
			m.ReadFleetWith(func(context.Context) ([]GroupFleet, error) {
				return []GroupFleet{{Group: "g1", OldestPending: time.Now().Add(-90 * time.Minute)}}, nil
			})
		}, `dispatchoor_oldest_pending_job_age_seconds{group="g1"} 5400`},
		{"fleet read error is counted", func(m *Metrics) {
			m.ReadFleetWith(func(context.Context) ([]GroupFleet, error) { return nil, errors.New("db down") })
		}, `dispatchoor_fleet_read_errors_total 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			before := scrape(t, m)
			if strings.Contains(before, tc.series) {
				t.Fatalf("series %q present before the update", tc.series)
			}
			tc.update(m)
			if after := scrape(t, m); !strings.Contains(after, tc.series) {
				t.Fatalf("after the update the scrape lacks %q", tc.series)
			}
		})
	}
}

func TestNonTerminalStatusCountsNothing(t *testing.T) {
	m := New()
	m.JobFinished("g1", "running")
	if out := scrape(t, m); strings.Contains(out, `group="g1"`) {
		t.Fatalf("a running job was counted as finished:\n%s", grepLines(out, "g1"))
	}
}

func TestNilMetricsIsSafe(t *testing.T) {
	var m *Metrics
	m.JobCreated("g")
	m.JobFinished("g", "failed")
	m.QueueSize("g", "pending", 1)
	m.Runners(1, 1, 0)
	m.DispatcherCycle()
	m.Dispatch("g", "ok")
	m.DispatchLatency("g", time.Second)
	m.CycleDone(time.Second)
	m.Dispatched("g", "ok")
	m.StartTimedOut("g")
	m.Reconciled("org:x", nil)
	m.Redelivered("e")
	m.Delivery("e", "ok")
	if m.RateLimits() != nil {
		t.Fatal("nil metrics returned rate limits")
	}
	m.JobWait(time.Second)
	m.WebhookDelivery("e", "ok")
	m.GitHubRequest("e", 200)
	m.RateLimitRemaining(1, 1)
	m.LabelMismatch("g", "t")
	m.HTTPRequest("r", 200)
	m.WebSocketClients(1)
	m.WebSocketDropped()
}

func TestTwoInstancesDoNotCollide(t *testing.T) {
	a, b := New(), New()
	a.JobCreated("x")
	if strings.Contains(scrape(t, b), `dispatchoor_jobs_created_total{group="x"}`) {
		t.Fatal("metrics leaked between registries")
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRateLimitsMirrorTheGauge(t *testing.T) {
	m := New()
	m.RateLimitRemaining(7, 100)
	m.RateLimitRemaining(7, 99)
	m.RateLimitRemaining(8, 5000)
	got := m.RateLimits()
	if len(got) != 2 || got[7] != 99 || got[8] != 5000 {
		t.Fatalf("rate limits %v", got)
	}
	got[7] = 1
	if m.RateLimits()[7] != 99 {
		t.Fatal("RateLimits returned its internal map")
	}
}
