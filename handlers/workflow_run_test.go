package handlers_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestWorkflowRunFinishesOurJob(t *testing.T) {
	cases := []struct {
		conclusion string
		want       core.JobStatus
	}{
		{"success", core.StatusCompleted},
		{"skipped", core.StatusCompleted},
		{"failure", core.StatusFailed},
		{"startup_failure", core.StatusFailed},
		{"brand_new_conclusion", core.StatusFailed},
		{"cancelled", core.StatusCancelled},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seedGroups()
		for i, c := range cases {
			t.Run(c.conclusion+" ends the job "+string(c.want), func(t *testing.T) {
				run := int64(9000 + i)
				j := h.job(core.StatusRunning, run, false)
				h.post("workflow_run", wrun{Action: "completed", ID: run, Conclusion: c.conclusion}.payload())
				got := h.getJob(j.ID)
				if got.Status != c.want || got.Conclusion != c.conclusion || got.CompletedAt == nil {
					t.Fatalf("job %s conclusion %q completed_at %v, want %s %q", got.Status, got.Conclusion, got.CompletedAt, c.want, c.conclusion)
				}
			})
		}
		t.Run("requested and in_progress move a triggered job to running once", func(t *testing.T) {
			j := h.job(core.StatusTriggered, 9100, false)
			h.post("workflow_run", wrun{Action: "requested", ID: 9100}.payload())
			if got := h.getJob(j.ID).Status; got != core.StatusTriggered {
				t.Fatalf("requested moved the job to %s", got)
			}
			h.post("workflow_run", wrun{Action: "in_progress", ID: 9100}.payload())
			if got := h.getJob(j.ID).Status; got != core.StatusRunning {
				t.Fatalf("in_progress left the job %s", got)
			}
			h.post("workflow_run", wrun{Action: "in_progress", ID: 9100}.payload()) // again: no error
		})
		t.Run("completed with auto-requeue puts a copy at the bottom", func(t *testing.T) {
			j := h.job(core.StatusRunning, 9200, true)
			h.post("workflow_run", wrun{Action: "completed", ID: 9200, Conclusion: "success"}.payload())
			if got := h.getJob(j.ID); got.Status != core.StatusCompleted {
				t.Fatalf("job %s", got.Status)
			}
			pending, err := s.ListJobsByStatus(ctx, core.StatusPending)
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) != 1 || pending[0].RequeueCount != 1 || pending[0].TemplateID != "a1" {
				t.Fatalf("requeued copies %+v, want one with requeue_count 1", pending)
			}
		})
		t.Run("completed run completes its still-queued GitHub jobs and wakes the dispatcher", func(t *testing.T) {
			h.post("workflow_job", wjob{Action: "queued", ID: 9301, RunID: 9300}.payload())
			wakes := h.f.wakeCount()
			h.post("workflow_run", wrun{Action: "completed", ID: 9300, Conclusion: "cancelled", Event: "push", Actor: "someone"}.payload())
			gj, err := s.GetGitHubJob(ctx, 9301)
			if err != nil || gj.Status != store.GitHubJobCompleted {
				t.Fatalf("queued github job %+v %v, want completed", gj, err)
			}
			if h.f.wakeCount() != wakes+1 {
				t.Fatal("freed demand did not wake the dispatcher")
			}
		})
	})
}

func TestWorkflowRunFinishFailureIsRetriedByRedelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seedGroups()
		j := h.job(core.StatusRunning, 9400, false)
		ev := wrun{Action: "completed", ID: 9400, Conclusion: "success"}.payload()
		// The queue service finishes in its own transaction after the
		// delivery committed; make that one fail.
		h.failFinish.Store(1)
		r := h.postID("workflow_run", "finish-1", ev)
		if r.Status != http.StatusInternalServerError {
			t.Fatalf("got %d %v, want 500 while the finish fails", r.Status, r.Body)
		}
		if got := h.getJob(j.ID).Status; got != core.StatusRunning {
			t.Fatalf("job %s before the redelivery", got)
		}
		r = h.postID("workflow_run", "finish-1", ev)
		if r.Status != http.StatusOK || r.Body["outcome"] != "duplicate" {
			t.Fatalf("redelivery got %d %v", r.Status, r.Body)
		}
		if got := h.getJob(j.ID).Status; got != core.StatusCompleted {
			t.Fatalf("redelivery did not finish the job: %s", got)
		}
	})
}

func TestCorrelation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("display_title naming the job matches it beyond doubt", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			a := h.job(core.StatusTriggered, 0, false)
			b := h.job(core.StatusTriggered, 0, false)
			h.post("workflow_run", wrun{Action: "in_progress", ID: 10001, DisplayTitle: strconv.FormatInt(b.ID, 10)}.payload())
			if got := h.getJob(b.ID); got.RunID != 10001 || got.Status != core.StatusRunning || got.RunURL == "" {
				t.Fatalf("job b %+v, want running with run 10001", got)
			}
			if got := h.getJob(a.ID); got.RunID != 0 || got.Status != core.StatusTriggered {
				t.Fatalf("job a was touched: %+v", got)
			}
			h.cleanup(a, b)
		})
		t.Run("a run by someone other than our bot is never claimed", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			a := h.job(core.StatusTriggered, 0, false)
			for i, actor := range []string{"octocat", "another-app[bot]"} {
				h.post("workflow_run", wrun{Action: "in_progress", ID: int64(10030 + i), Actor: actor,
					DisplayTitle: strconv.FormatInt(a.ID, 10)}.payload())
				if got := h.getJob(a.ID); got.RunID != 0 || got.Status != core.StatusTriggered {
					t.Fatalf("run of %s was claimed: %+v", actor, got)
				}
			}
			h.cleanup(a)
		})
		t.Run("two jobs that fit and no display_title: refused", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			a := h.job(core.StatusTriggered, 0, false)
			b := h.job(core.StatusTriggered, 0, false)
			h.post("workflow_run", wrun{Action: "in_progress", ID: 10003}.payload())
			for _, j := range []core.Job{a, b} {
				if got := h.getJob(j.ID); got.RunID != 0 {
					t.Fatalf("ambiguous run claimed by job %d", j.ID)
				}
			}
			h.cleanup(a, b)
		})
		t.Run("the only job that fits is matched and a completed run finishes it", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			a := h.job(core.StatusTriggered, 0, true)
			h.post("workflow_run", wrun{Action: "completed", ID: 10004, Conclusion: "failure"}.payload())
			got := h.getJob(a.ID)
			if got.RunID != 10004 || got.Status != core.StatusFailed || got.Conclusion != "failure" {
				t.Fatalf("job %+v, want failed with run 10004", got)
			}
			pending, err := s.ListJobsByStatus(ctx, core.StatusPending)
			if err != nil || len(pending) != 1 {
				t.Fatalf("auto-requeue after a correlated run: %v %v", pending, err)
			}
			h.cleanupPending()
		})
		t.Run("a dispatching job is matched at requested and becomes triggered", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			a := h.job(core.StatusDispatching, 0, false)
			h.post("workflow_run", wrun{Action: "requested", ID: 10005}.payload())
			if got := h.getJob(a.ID); got.RunID != 10005 || got.Status != core.StatusTriggered {
				t.Fatalf("job %+v, want triggered with run 10005", got)
			}
			h.cleanup(a)
		})
		t.Run("other workflow, branch or a run older than the dispatch is not matched", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			a := h.job(core.StatusTriggered, 0, false)
			for i, ev := range []wrun{
				{Path: ".github/workflows/other.yml"},
				{Branch: "dev"},
				{CreatedAt: t0.Add(-time.Hour)},
				{Event: "push"},
			} {
				ev.Action, ev.ID = "in_progress", int64(10010+i)
				h.post("workflow_run", ev.payload())
				if got := h.getJob(a.ID); got.RunID != 0 {
					t.Fatalf("run %+v claimed the job", ev)
				}
			}
			h.cleanup(a)
		})
		t.Run("an unreachable bot login fails the delivery so it is retried", func(t *testing.T) {
			h := newHarness(t, s)
			h.botErr = errors.New("GitHub is down")
			r := h.postID("workflow_run", "bot-1", wrun{Action: "requested", ID: 10020}.payload())
			if r.Status != http.StatusInternalServerError {
				t.Fatalf("got %d %v", r.Status, r.Body)
			}
		})
	})
}

// cleanup ends jobs a correlation case left active, so they cannot be
// candidates in the next case on the same store.
func (h *harness) cleanup(jobs ...core.Job) {
	h.t.Helper()
	for _, j := range jobs {
		j = h.getJob(j.ID)
		if j.Status.Terminal() {
			continue
		}
		if _, err := h.s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: j.Status, To: core.StatusCancelled}); err != nil {
			h.t.Fatalf("cleanup job %d: %v", j.ID, err)
		}
	}
}

func (h *harness) cleanupPending() {
	h.t.Helper()
	pending, err := h.s.ListJobsByStatus(ctx, core.StatusPending)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, j := range pending {
		if err := h.s.DeletePendingJob(ctx, j.ID); err != nil {
			h.t.Fatal(err)
		}
	}
}
