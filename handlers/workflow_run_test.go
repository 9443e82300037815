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

func TestWorkflowRunFinishIsPartOfTheDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seedGroups()
		j := h.job(core.StatusRunning, 9400, true)
		h.post("workflow_job", wjob{Action: "queued", ID: 9401, RunID: 9400}.payload())
		stored := h.deliveriesStored()
		ev := wrun{Action: "completed", ID: 9400, Conclusion: "success"}.payload()

		// The finish did its work (status, requeued copy) and then failed:
		// everything the delivery applied must roll back with it.
		h.failFinish.Store(1)
		r := h.postID("workflow_run", "finish-1", ev)
		if r.Status != http.StatusInternalServerError {
			t.Fatalf("got %d %v, want 500 while the finish fails", r.Status, r.Body)
		}
		if got := h.getJob(j.ID); got.Status != core.StatusRunning || got.Conclusion != "" {
			t.Fatalf("job %s %q after the failed delivery, want running", got.Status, got.Conclusion)
		}
		if pending, _ := s.ListJobsByStatus(ctx, core.StatusPending); len(pending) != 0 {
			t.Fatalf("requeued copy survived the rollback: %+v", pending)
		}
		if gj, _ := s.GetGitHubJob(ctx, 9401); gj.Status != store.GitHubJobQueued {
			t.Fatalf("queued GitHub job is %s after the rollback", gj.Status)
		}
		if got := h.deliveriesStored(); got != stored {
			t.Fatalf("delivery recorded despite the rollback: %d, want %d", got, stored)
		}
		if h.emitted.Load() != 0 || h.f.wakeCount() != 0 {
			t.Fatalf("rolled-back finish announced: emitted %d, wakes %v", h.emitted.Load(), h.f.wakes)
		}

		// GitHub's redelivery (same id) applies it, once.
		for i, want := range []string{"applied", "duplicate"} {
			r = h.postID("workflow_run", "finish-1", ev)
			if r.Status != http.StatusOK || r.Body["outcome"] != want {
				t.Fatalf("redelivery %d got %d %v, want %s", i, r.Status, r.Body, want)
			}
		}
		// The same news under another delivery id finishes nothing twice.
		h.post("workflow_run", ev)
		if got := h.getJob(j.ID); got.Status != core.StatusCompleted || got.Conclusion != "success" {
			t.Fatalf("job %s %q, want completed", got.Status, got.Conclusion)
		}
		if pending, _ := s.ListJobsByStatus(ctx, core.StatusPending); len(pending) != 1 {
			t.Fatalf("requeued copies %+v, want exactly one", pending)
		}
		if gj, _ := s.GetGitHubJob(ctx, 9401); gj.Status != store.GitHubJobCompleted {
			t.Fatalf("queued GitHub job is %s, want completed", gj.Status)
		}
		if h.emitted.Load() != 1 {
			t.Fatalf("outcome announced %d times, want once after the commit", h.emitted.Load())
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
		t.Run("a triggered job gets its run at requested and its queued job is label-checked", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			h.addRunner(10049, false, "self-hosted", "alpha")
			a := h.job(core.StatusTriggered, 0, false)
			h.post("workflow_run", wrun{Action: "requested", ID: 10040}.payload())
			got := h.getJob(a.ID)
			if got.RunID != 10040 || got.Status != core.StatusTriggered || got.RunURL == "" {
				t.Fatalf("job %+v, want triggered with run 10040 attached", got)
			}
			h.post("workflow_job", wjob{Action: "queued", ID: 10041, RunID: 10040, Labels: []string{"self-hosted", "alpha", "gpu-xl"}}.payload())
			if got := h.getJob(a.ID); got.LabelMismatch != "runs-on asks for gpu-xl; no runner of group alpha has it" {
				t.Fatalf("job label_mismatch %q", got.LabelMismatch)
			}
			gj, err := s.GetGitHubJob(ctx, 10041)
			if err != nil || gj.JobID != a.ID {
				t.Fatalf("github job not linked: %+v %v", gj, err)
			}
			h.cleanup(a)
		})
		t.Run("a job queued before its run was correlated is label-checked when the run attaches", func(t *testing.T) {
			h := newHarness(t, s)
			h.seedGroups()
			h.addRunner(10059, false, "self-hosted", "alpha")
			a := h.job(core.StatusDispatching, 0, false)
			h.post("workflow_job", wjob{Action: "queued", ID: 10051, RunID: 10050, Labels: []string{"self-hosted", "alpha", "gpu-xl"}}.payload())
			h.post("workflow_run", wrun{Action: "requested", ID: 10050}.payload())
			got := h.getJob(a.ID)
			if got.RunID != 10050 || got.Status != core.StatusTriggered || got.LabelMismatch == "" {
				t.Fatalf("job %+v, want triggered with run 10050 and a label mismatch", got)
			}
			if gj, _ := s.GetGitHubJob(ctx, 10051); gj.JobID != a.ID {
				t.Fatalf("github job linked to %d, want %d", gj.JobID, a.ID)
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
