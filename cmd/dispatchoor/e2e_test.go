package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/tools/demo"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// TestWholeProductAgainstTheSimulator runs the app exactly as `server` wires
// it, against the demo's simulated GitHub, with jobs flowing, and then
// scrapes /metrics: every series below (of docs/DEPLOY.md, Metrics) must
// have moved through the real wiring (webhooks, dispatcher, gh client, hub),
// not only in unit tests of the metrics package. Series that only move on a
// fault (label mismatch, a full replica queue, a secondary-limit refusal)
// are held by their packages' tests.
func TestWholeProductAgainstTheSimulator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	world, err := demo.NewWorld(demo.Options{Seed: 11, Speed: 60, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer world.Close()
	simSrv := ghsimtest.Serve(world.Sim)
	defer simSrv.Close()

	addr, err := resolveAddr("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	creds := demo.NewCredentials()
	cfg, err := world.Config(ctx, demo.ConfigOptions{Dir: t.TempDir(), Listen: addr, PublicURL: base, Creds: creds})
	if err != nil {
		t.Fatal(err)
	}
	world.Sim.SetWebhookURL(base + "/api/github/hook")

	served := make(chan error, 1)
	logs := &lockedBuffer{}
	log := zerolog.New(logs).Level(zerolog.WarnLevel)
	go func() {
		served <- serve(ctx, cfg, config.NewLoadOptions(), log, addr, func(a *app) {
			go world.Feed(ctx, demo.FeedOptions{Queue: a.q, Counter: a.st, Logger: log, Every: 200 * time.Millisecond, MinPending: 3})
		})
	}()

	c := newClient(t, base)
	eventually(t, 20*time.Second, "server answers", func() bool { return c.status("GET", "/health", nil) == 200 })
	if code := c.status("POST", "/api/v1/auth/login", map[string]string{"username": creds.AdminUser, "password": creds.AdminPassword}); code != 200 {
		t.Fatalf("login: %d", code)
	}

	// Jobs finish by themselves; cancel one pending job so the cancelled
	// series moves too.
	eventually(t, 90*time.Second, "ten jobs finished", func() bool { return c.finished("sync-tests") >= 10 })
	// The demo's feed tops the queue up, but a busy moment can leave no job
	// pending, and one may be dispatched between the read and the cancel.
	eventually(t, 30*time.Second, "a pending job cancelled", func() bool {
		id := c.pendingJob("sync-tests")
		return id != 0 && c.status("POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", id), nil) == 200
	})

	var text string
	eventually(t, 30*time.Second, "every series moved", func() bool {
		text = c.body("/metrics")
		return len(unmoved(text)) == 0
	})
	if missing := unmoved(text); len(missing) > 0 {
		t.Fatalf("series that never moved: %v\nwarnings logged:\n%s", missing, logs.String())
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("server: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("server did not stop")
	}
}

// series are the series that move in a healthy run, each with a pattern
// that matches only when it moved (a non-zero sample).
var series = []string{
	`dispatchoor_jobs_created_total\{group="sync-tests"\} [1-9]`,
	`dispatchoor_github_pacer_wait_seconds_count\{priority="dispatch"\} [1-9]`,
	`dispatchoor_jobs_completed_total\{group="[a-z-]+"\} [1-9]`,
	`dispatchoor_jobs_cancelled_total\{group="sync-tests"\} [1-9]`,
	`dispatchoor_queue_size\{group="sync-tests",status="pending"\} [1-9]`,
	`dispatchoor_runners_online [1-9]`,
	`dispatchoor_runners_busy [1-9]`,
	`dispatchoor_runners_idle [0-9]`,
	`dispatchoor_dispatcher_cycles_total [1-9]`,
	`dispatchoor_dispatches_total\{group="sync-tests",outcome="triggered"\} [1-9]`,
	`dispatchoor_dispatch_latency_seconds_count [1-9]`,
	`dispatchoor_job_wait_seconds_count [1-9]`,
	`dispatchoor_webhook_deliveries_total\{event="workflow_job",outcome="applied"\} [1-9]`,
	`dispatchoor_github_api_requests_total\{code="200",endpoint="POST /repos/\{owner\}/\{repo\}/actions/workflows/\{workflow_id\}/dispatches"\} [1-9]`,
	`dispatchoor_github_rate_limit_remaining\{installation="[0-9]+"\} [1-9]`,
	`dispatchoor_job_run_seconds_count [1-9]`,
	`dispatchoor_last_webhook_timestamp_seconds [1-9]`,
	`dispatchoor_build_info\{version="[^"]+"\} 1`,
	`dispatchoor_leader 1`,
	`dispatchoor_group_runners\{group="sync-tests",state="busy"\} [1-9]`,
	`dispatchoor_group_runners\{group="sync-tests",state="idle"\} [0-9]`,
	`dispatchoor_group_runners\{group="sync-tests",state="offline"\} [0-9]`,
	`dispatchoor_oldest_pending_job_age_seconds\{group="sync-tests"\} [0-9]`,
}

func unmoved(text string) []string {
	var out []string
	for _, s := range series {
		if !regexp.MustCompile(`(?m)^` + s).MatchString(text) {
			out = append(out, s)
		}
	}
	return out
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (c *client) do(method, path string, body any) (int, []byte) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "dispatchoor")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *client) status(method, path string, body any) int {
	code, _ := c.do(method, path, body)
	return code
}
func (c *client) body(path string) string { _, b := c.do("GET", path, nil); return string(b) }

type jobList struct {
	Items []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"items"`
}

func (c *client) finished(group string) int {
	var l jobList
	_ = json.Unmarshal([]byte(c.body("/api/v1/groups/"+group+"/history?limit=100")), &l)
	return len(l.Items)
}

// pendingJob is the id of a pending job of group, or 0 when none is.
func (c *client) pendingJob(group string) int64 {
	var l jobList
	_ = json.Unmarshal([]byte(c.body("/api/v1/groups/"+group+"/queue")), &l)
	for _, j := range l.Items {
		if j.Status == "pending" {
			return j.ID
		}
	}
	return 0
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for: %s", d, what)
		case <-time.After(100 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
}
