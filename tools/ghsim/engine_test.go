package ghsim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// receiver is an httptest webhook endpoint that verifies each delivery with
// go-github's ValidatePayload and parses it with ParseWebHook.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []received
}

type received struct {
	Event, Action, GUID string
	Value               any
}

func newReceiver(t *testing.T, s *Sim, secret string) *receiver {
	rc := &receiver{t: t, secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := github.ValidatePayload(r, []byte(rc.secret))
		if err != nil {
			t.Errorf("delivery %s failed signature check: %v", r.Header.Get("X-GitHub-Delivery"), err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev, err := github.ParseWebHook(github.WebHookType(r), body)
		if err != nil {
			t.Errorf("parse %s: %v", github.WebHookType(r), err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, h := range []string{"X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID", "X-GitHub-Hook-Installation-Target-Type", "X-Hub-Signature"} {
			if r.Header.Get(h) == "" {
				t.Errorf("delivery lacks %s", h)
			}
		}
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "GitHub-Hookshot/") {
			t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
		}
		var action string
		if a, ok := ev.(interface{ GetAction() string }); ok {
			action = a.GetAction()
		}
		rc.mu.Lock()
		rc.got = append(rc.got, received{Event: github.WebHookType(r), Action: action, GUID: github.DeliveryID(r), Value: ev})
		rc.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	s.SetWebhookURL(srv.URL)
	return rc
}

func (rc *receiver) events() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) sequence() []string {
	var out []string
	for _, r := range rc.events() {
		out = append(out, r.Event+"."+r.Action)
	}
	return out
}

func dispatchBody(ref string, inputs map[string]any, details bool) map[string]any {
	b := map[string]any{"ref": ref}
	if inputs != nil {
		b["inputs"] = inputs
	}
	if details {
		b["return_run_details"] = true
	}
	return b
}

func TestFullDispatchCycleSendsSignedWebhooksInOrder(t *testing.T) {
	w := newTestWorld(t, Options{Speed: 100})
	rc := newReceiver(t, w.sim, "s3cret")
	runnerID, err := w.sim.AddRunner(Runner{Name: "sync-1", Scope: "org:acme", Labels: []string{"Self-Hosted", "SYNC", "x64"}, Online: true, GroupID: 3, GroupName: "sync-pool"})
	if err != nil {
		t.Fatal(err)
	}
	tok := w.token(t, w.ins)
	resp, body := doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok,
		dispatchBody("main", map[string]any{"network": "hoodi"}, true))
	if resp.StatusCode != 200 {
		t.Fatalf("dispatch: %d %s", resp.StatusCode, body)
	}
	details := decode[github.WorkflowDispatchRunDetails](t, body)
	runID := details.GetWorkflowRunID()
	if runID == 0 || !strings.HasSuffix(details.GetRunURL(), fmt.Sprintf("/api/v3/repos/acme/infra/actions/runs/%d", runID)) {
		t.Fatalf("details = %s", body)
	}
	eventually(t, 5*time.Second, "run completed", func() bool {
		r, _ := w.sim.GetRun(runID)
		return r.Status == StatusCompleted
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"workflow_run.requested", "workflow_job.queued", "workflow_run.in_progress",
		"workflow_job.in_progress", "workflow_job.completed", "workflow_run.completed"}
	if got := rc.sequence(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sequence = %v, want %v", got, want)
	}
	evs := rc.events()
	started := evs[3].Value.(*github.WorkflowJobEvent)
	job := started.GetWorkflowJob()
	if job.GetRunnerID() != runnerID || job.GetRunnerName() != "sync-1" || job.GetRunnerGroupName() != "sync-pool" || job.GetRunID() != runID {
		t.Fatalf("in_progress job = %+v", job)
	}
	if started.GetInstallation().GetID() != w.ins || started.GetRepo().GetFullName() != "acme/infra" || started.GetOrg().GetLogin() != "acme" || started.GetSender().GetLogin() == "" {
		t.Fatalf("envelope = %+v", started)
	}
	done := evs[5].Value.(*github.WorkflowRunEvent)
	if done.GetWorkflowRun().GetConclusion() != "success" || done.GetWorkflowRun().GetID() != runID || done.GetWorkflow().GetPath() != ".github/workflows/sync.yml" {
		t.Fatalf("completed run = %+v", done.GetWorkflowRun())
	}
	if r := w.sim.Runners()[0]; r.Busy {
		t.Fatalf("runner still busy after its job")
	}
	for _, d := range w.sim.Deliveries() {
		if !d.Delivered || d.StatusCode != 200 {
			t.Fatalf("delivery %+v not recorded as delivered", d)
		}
	}
}

func TestSchedulingPicksFirstIdleMatchingRunner(t *testing.T) {
	cases := []struct {
		name    string
		runners []Runner
		want    string // runner name that takes the job, "" = stays queued
	}{
		{"labels compare case-insensitively", []Runner{{Name: "a", Labels: []string{"SELF-HOSTED", "Sync"}, Online: true}}, "a"},
		{"runner missing a label is skipped", []Runner{{Name: "a", Labels: []string{"self-hosted"}, Online: true}, {Name: "b", Labels: []string{"self-hosted", "sync", "big"}, Online: true}}, "b"},
		{"offline runner is skipped", []Runner{{Name: "a", Labels: []string{"self-hosted", "sync"}}, {Name: "b", Labels: []string{"self-hosted", "sync"}, Online: true}}, "b"},
		{"first registered idle runner wins", []Runner{{Name: "a", Labels: []string{"self-hosted", "sync"}, Online: true}, {Name: "b", Labels: []string{"self-hosted", "sync"}, Online: true}}, "a"},
		{"no matching runner leaves the job queued", []Runner{{Name: "a", Labels: []string{"gpu"}, Online: true}}, ""},
		{"runner of another org is never used", []Runner{{Name: "x", Scope: "org:other", Labels: []string{"self-hosted", "sync"}, Online: true}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t, Options{Speed: 1000})
			for _, r := range tc.runners {
				if r.Scope == "" {
					r.Scope = "org:acme"
				}
				if _, err := w.sim.AddRunner(r); err != nil {
					t.Fatal(err)
				}
			}
			tok := w.token(t, w.ins)
			resp, body := doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok, dispatchBody("main", map[string]any{"network": "x"}, false))
			if resp.StatusCode != 204 || len(body) != 0 {
				t.Fatalf("dispatch: %d %s", resp.StatusCode, body)
			}
			if tc.want == "" {
				// Twenty pickup delays of simulated time: a runner that
				// could take the job would have.
				if err := w.sim.Clock().Sleep(context.Background(), 20*time.Second); err != nil {
					t.Fatal(err)
				}
				if j := w.sim.Jobs()[0]; j.Status != StatusQueued || j.RunnerID != 0 {
					t.Fatalf("job = %+v, want queued without runner", j)
				}
				return
			}
			eventually(t, 3*time.Second, "job started", func() bool { return w.sim.Jobs()[0].Status != StatusQueued })
			if j := w.sim.Jobs()[0]; j.RunnerName != tc.want {
				t.Fatalf("taken by %q, want %q", j.RunnerName, tc.want)
			}
		})
	}
}

func TestQueuedRunStartsWhenRunnerAppears(t *testing.T) {
	w := newTestWorld(t, Options{Speed: 1000})
	tok := w.token(t, w.ins)
	doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok, dispatchBody("main", map[string]any{"network": "x"}, false))
	settle := func() {
		// Ten pickup delays of simulated time: long enough for any runner
		// that could take the job to have taken it.
		if err := w.sim.Clock().Sleep(context.Background(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	settle()
	if w.sim.Jobs()[0].Status != StatusQueued {
		t.Fatal("job started without a runner")
	}
	id, _ := w.sim.AddRunner(Runner{Name: "late", Scope: "org:acme", Labels: []string{"self-hosted", "sync"}, Online: false})
	settle()
	if w.sim.Jobs()[0].RunnerID != 0 {
		t.Fatal("offline runner took the job")
	}
	if err := w.sim.SetRunnerOnline(id, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "job completed", func() bool { return w.sim.Jobs()[0].Status == StatusCompleted })
}

func TestEphemeralRunnerLeavesAndIsReplacedSilently(t *testing.T) {
	w := newTestWorld(t, Options{Speed: 1000})
	rc := newReceiver(t, w.sim, "s3cret")
	// 5 simulated minutes are 300 ms here: long enough that a loaded
	// machine still sees the gap between leaving and replacement.
	if _, err := w.sim.AddRunner(Runner{Name: "eph", Scope: "org:acme", Labels: []string{"self-hosted", "sync"}, Online: true,
		Ephemeral: true, Replace: true, ReplaceAfter: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	tok := w.token(t, w.ins)
	doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok, dispatchBody("main", map[string]any{"network": "x"}, false))
	eventually(t, 3*time.Second, "job completed", func() bool { return w.sim.Jobs()[0].Status == StatusCompleted })
	if n := len(w.sim.Runners()); n != 0 {
		t.Fatalf("%d runners right after the ephemeral job, want 0", n)
	}
	eventually(t, 3*time.Second, "replacement", func() bool { return len(w.sim.Runners()) == 1 })
	r := w.sim.Runners()[0]
	if r.Name == "eph" || !r.Online || r.Busy || !r.Ephemeral {
		t.Fatalf("replacement = %+v", r)
	}
	_ = w.sim.WaitIdle(context.Background())
	for _, e := range rc.events() {
		if e.Event != "workflow_run" && e.Event != "workflow_job" {
			t.Fatalf("unexpected %s webhook for a runner registration", e.Event)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Run("queued run is cancelled at once with 202", func(t *testing.T) {
		w := newTestWorld(t, Options{Speed: 1000})
		rc := newReceiver(t, w.sim, "s3cret")
		tok := w.token(t, w.ins)
		_, body := doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok, dispatchBody("main", map[string]any{"network": "x"}, true))
		id := runIDOf(t, body)
		resp, body := doReq(t, "POST", fmt.Sprintf("%srepos/acme/infra/actions/runs/%d/cancel", w.sim.APIURL(), id), tok, nil)
		if resp.StatusCode != 202 {
			t.Fatalf("cancel: %d %s", resp.StatusCode, body)
		}
		if r, _ := w.sim.GetRun(id); r.Status != StatusCompleted || r.Conclusion != "cancelled" {
			t.Fatalf("run = %+v", r)
		}
		resp, body = doReq(t, "POST", fmt.Sprintf("%srepos/acme/infra/actions/runs/%d/cancel", w.sim.APIURL(), id), tok, nil)
		if resp.StatusCode != 409 || !strings.Contains(string(body), "completed") {
			t.Fatalf("second cancel: %d %s", resp.StatusCode, body)
		}
		_ = w.sim.WaitIdle(context.Background())
		want := "workflow_run.requested,workflow_job.queued,workflow_job.completed,workflow_run.completed"
		if got := strings.Join(rc.sequence(), ","); got != want {
			t.Fatalf("sequence = %s", got)
		}
	})
	t.Run("in-progress run ends cancelled after a delay", func(t *testing.T) {
		w := newTestWorld(t, Options{Speed: 100, CancelDelay: 3 * time.Second})
		w.sim.AddRunner(Runner{Name: "a", Scope: "org:acme", Labels: []string{"self-hosted", "sync"}, Online: true})
		tok := w.token(t, w.ins)
		_, body := doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/label.yml/dispatches", tok, dispatchBody("main", nil, true))
		id := runIDOf(t, body)
		eventually(t, 3*time.Second, "in progress", func() bool { r, _ := w.sim.GetRun(id); return r.Status == StatusInProgress })
		resp, _ := doReq(t, "POST", fmt.Sprintf("%srepos/acme/infra/actions/runs/%d/cancel", w.sim.APIURL(), id), tok, nil)
		if resp.StatusCode != 202 {
			t.Fatalf("cancel: %d", resp.StatusCode)
		}
		if r, _ := w.sim.GetRun(id); r.Status != StatusInProgress {
			t.Fatalf("in-progress run stopped instantly: %+v", r)
		}
		eventually(t, 3*time.Second, "cancelled", func() bool { r, _ := w.sim.GetRun(id); return r.Conclusion == "cancelled" })
		if w.sim.Runners()[0].Busy {
			t.Fatal("runner still busy after cancel")
		}
	})
	t.Run("unknown run is 404", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		resp, _ := doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/runs/1/cancel", w.token(t, w.ins), nil)
		if resp.StatusCode != 404 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func runIDOf(t *testing.T, body []byte) int64 {
	t.Helper()
	d := decode[github.WorkflowDispatchRunDetails](t, body)
	return d.GetWorkflowRunID()
}
