package handlers_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestWorkflowJobOrdering(t *testing.T) {
	const runner = 10
	cases := []struct {
		name       string
		events     []wjob
		wantBusy   bool
		wantJob    int64 // runner's current job when busy
		wantStatus map[int64]store.GitHubJobStatus
	}{
		{
			name:       "in_progress makes the runner busy with that job",
			events:     []wjob{{Action: "queued", ID: 1, RunID: 100}, {Action: "in_progress", ID: 1, RunID: 100, RunnerID: runner}},
			wantBusy:   true,
			wantJob:    1,
			wantStatus: map[int64]store.GitHubJobStatus{1: store.GitHubJobInProgress},
		},
		{
			name: "completed frees the runner",
			events: []wjob{{Action: "in_progress", ID: 1, RunID: 100, RunnerID: runner},
				{Action: "completed", ID: 1, RunID: 100, RunnerID: runner, Conclusion: "success"}},
			wantStatus: map[int64]store.GitHubJobStatus{1: store.GitHubJobCompleted},
		},
		{
			name: "completed before in_progress leaves runner idle and job completed",
			events: []wjob{{Action: "completed", ID: 1, RunID: 100, RunnerID: runner, Conclusion: "success"},
				{Action: "in_progress", ID: 1, RunID: 100, RunnerID: runner}},
			wantStatus: map[int64]store.GitHubJobStatus{1: store.GitHubJobCompleted},
		},
		{
			name: "late queued after in_progress is ignored",
			events: []wjob{{Action: "in_progress", ID: 1, RunID: 100, RunnerID: runner},
				{Action: "queued", ID: 1, RunID: 100}},
			wantBusy:   true,
			wantJob:    1,
			wantStatus: map[int64]store.GitHubJobStatus{1: store.GitHubJobInProgress},
		},
		{
			name: "late completed of an older job does not free a runner busy with a newer one",
			events: []wjob{{Action: "in_progress", ID: 1, RunID: 100, RunnerID: runner},
				{Action: "in_progress", ID: 2, RunID: 200, RunnerID: runner},
				{Action: "completed", ID: 1, RunID: 100, RunnerID: runner, Conclusion: "success"}},
			wantBusy:   true,
			wantJob:    2,
			wantStatus: map[int64]store.GitHubJobStatus{1: store.GitHubJobCompleted, 2: store.GitHubJobInProgress},
		},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// Fresh ids per case: the store is shared by the cases.
				h := newHarness(t, s)
				base := int64(i+1) * 1000
				r := base + runner
				h.addRunner(r, false, "self-hosted", "alpha")
				for _, ev := range c.events {
					ev.ID += base
					ev.RunID += base
					ev.RunnerID = map[bool]int64{true: r, false: 0}[ev.RunnerID != 0]
					h.post("workflow_job", ev.payload())
				}
				got := h.runner(r)
				if got.Busy != c.wantBusy || (c.wantBusy && got.CurrentJobID != base+c.wantJob) {
					t.Fatalf("runner busy=%v job=%d, want busy=%v job=%d", got.Busy, got.CurrentJobID, c.wantBusy, base+c.wantJob)
				}
				for id, want := range c.wantStatus {
					gj, err := s.GetGitHubJob(ctx, base+id)
					if err != nil {
						t.Fatal(err)
					}
					if gj.Status != want {
						t.Fatalf("github job %d is %s, want %s", id, gj.Status, want)
					}
				}
			})
		}
	})
}

func TestWorkflowJobRunners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("unknown runner is created ephemeral and its scope reconciled soon", func(t *testing.T) {
			h := newHarness(t, s)
			h.post("workflow_job", wjob{Action: "in_progress", ID: 31, RunID: 32, RunnerID: 33, RunnerName: "arc-xyz"}.payload())
			r := h.runner(33)
			if !r.Busy || r.CurrentJobID != 31 || !r.Ephemeral || r.Scope != "org:acme" || r.Name != "arc-xyz" {
				t.Fatalf("runner %+v", r)
			}
			if got := h.f.schedules(); !slices.Equal(got, []scheduled{{"org:acme", 2 * time.Second}}) {
				t.Fatalf("scheduled %v, want one reconcile of org:acme after 2s", got)
			}
		})
		t.Run("GitHub-hosted runner is not tracked", func(t *testing.T) {
			h := newHarness(t, s)
			h.post("workflow_job", wjob{Action: "in_progress", ID: 41, RunID: 42, RunnerID: 43, Group: "GitHub Actions"}.payload())
			if _, err := s.GetRunner(ctx, 43); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("hosted runner stored: %v", err)
			}
			if len(h.f.schedules()) != 0 {
				t.Fatalf("reconcile scheduled for a hosted runner: %v", h.f.schedules())
			}
		})
		t.Run("ephemeral runner finishing schedules the debounced re-list, not a wake-up", func(t *testing.T) {
			h := newHarness(t, s)
			h.addRunner(51, true, "self-hosted", "alpha")
			h.post("workflow_job", wjob{Action: "in_progress", ID: 52, RunID: 53, RunnerID: 51}.payload())
			h.post("workflow_job", wjob{Action: "completed", ID: 52, RunID: 53, RunnerID: 51, Conclusion: "success"}.payload())
			want := []scheduled{{"org:acme", 3 * time.Second}, {"org:acme", 15 * time.Second}}
			if got := h.f.schedules(); !slices.Equal(got, want) {
				t.Fatalf("scheduled %v, want %v", got, want)
			}
			if h.f.wakeCount() != 0 {
				t.Fatalf("woke the dispatcher for a runner that is going away: %v", h.f.wakes)
			}
			if r := h.runner(51); r.Status != core.RunnerOffline || r.Busy {
				t.Fatalf("finished ephemeral runner %+v, want offline and not busy", r.Runner)
			}
			if slots := alphaSlots(t, s); slots != 0 {
				t.Fatalf("capacity promises %d slots on a runner that is going away", slots)
			}
		})
		t.Run("persistent runner finishing wakes the dispatcher", func(t *testing.T) {
			h := newHarness(t, s)
			h.addRunner(61, false, "self-hosted", "alpha")
			h.post("workflow_job", wjob{Action: "in_progress", ID: 62, RunID: 63, RunnerID: 61}.payload())
			if h.f.wakeCount() != 0 {
				t.Fatal("in_progress frees nothing but woke the dispatcher")
			}
			h.post("workflow_job", wjob{Action: "completed", ID: 62, RunID: 63, RunnerID: 61, Conclusion: "success"}.payload())
			if h.f.wakeCount() != 1 || len(h.f.schedules()) != 0 {
				t.Fatalf("wakes %v schedules %v, want one wake and no re-list", h.f.wakes, h.f.schedules())
			}
			if r := h.runner(61); r.Status != core.RunnerOnline || r.Busy {
				t.Fatalf("finished persistent runner %+v, want online and idle", r.Runner)
			}
			if slots := alphaSlots(t, s); slots != 1 {
				t.Fatalf("capacity %d slots, want the freed runner's one", slots)
			}
		})
		t.Run("queued job is recorded as GitHub-side demand with its labels", func(t *testing.T) {
			h := newHarness(t, s)
			h.post("workflow_job", wjob{Action: "queued", ID: 71, RunID: 72, Labels: []string{"Self-Hosted", "GPU"}}.payload())
			q, err := s.QueuedGitHubJobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(q, func(j store.GitHubJob) bool { return j.ID == 71 })
			if i < 0 || !slices.Equal(q[i].Labels, []string{"self-hosted", "gpu"}) || q[i].Repo != "acme/infra" {
				t.Fatalf("queued demand %+v", q)
			}
		})
	})
}

// alphaSlots is how many jobs group alpha could dispatch now from the stored
// runners, with plenty of pending work.
func alphaSlots(t *testing.T, s *store.Store) int {
	t.Helper()
	rs, err := s.ListRunners(ctx, store.RunnerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	alloc := core.Capacity(core.CapacityInput{
		Groups:  []core.GroupLoad{{Group: groupAlpha, Pending: 10}},
		Runners: store.CoreRunners(rs),
	})
	return alloc[0].Slots
}

func TestWorkflowJobOfOurRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.seedGroups()
		h.addRunner(80, false, "self-hosted", "alpha")

		t.Run("in_progress moves our triggered job to running with runner and start time", func(t *testing.T) {
			j := h.job(core.StatusTriggered, 8001, false)
			h.clock.set(t0.Add(time.Minute))
			h.post("workflow_job", wjob{Action: "in_progress", ID: 8002, RunID: 8001, RunnerID: 80, RunnerName: "runner-80"}.payload())
			got := h.getJob(j.ID)
			if got.Status != core.StatusRunning || got.RunnerName != "runner-80" || got.StartedAt == nil || !got.StartedAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("job %+v", got)
			}
			gj, err := s.GetGitHubJob(ctx, 8002)
			if err != nil || gj.JobID != j.ID {
				t.Fatalf("github job not linked to ours: %+v %v", gj, err)
			}
			if !slices.ContainsFunc(h.f.changed, func(c core.Job) bool { return c.ID == j.ID && c.Status == core.StatusRunning }) {
				t.Fatal("job change not announced")
			}
		})
		t.Run("label mismatch flags the template with the differing labels", func(t *testing.T) {
			j := h.job(core.StatusTriggered, 8101, false)
			wakes := h.f.wakeCount()
			h.post("workflow_job", wjob{Action: "queued", ID: 8102, RunID: 8101, Labels: []string{"self-hosted", "alpha", "gpu"}}.payload())
			// The flagged run stops holding a runner of its group: the
			// dispatcher must hear of it now, not at start_timeout.
			if got := h.f.wakeCount() - wakes; got != 1 {
				t.Fatalf("%d wake-ups for a newly flagged run, want 1", got)
			}
			tm, err := s.GetTemplate(ctx, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if tm.LabelMismatch != "gpu" {
				t.Fatalf("template label_mismatch %q, want \"gpu\"", tm.LabelMismatch)
			}
			const want = "runs-on asks for gpu; no runner of group alpha has it"
			if got := h.getJob(j.ID); got.LabelMismatch != want {
				t.Fatalf("job label_mismatch %q, want %q", got.LabelMismatch, want)
			}
			if !slices.ContainsFunc(h.f.changed, func(c core.Job) bool { return c.ID == j.ID && c.LabelMismatch == want }) {
				t.Fatal("flagged job not announced")
			}
			if !slices.Equal(h.f.mismatch, [][2]string{{"alpha", "a1"}}) {
				t.Fatalf("metric hook %v", h.f.mismatch)
			}
			if h.getJob(j.ID).Status != core.StatusTriggered {
				t.Fatal("a queued job must not change our job's status")
			}
		})
		t.Run("served labels clear an earlier mismatch", func(t *testing.T) {
			h.job(core.StatusTriggered, 8201, false)
			wakes := h.f.wakeCount()
			h.post("workflow_job", wjob{Action: "queued", ID: 8202, RunID: 8201, Labels: []string{"self-hosted", "ALPHA"}}.payload())
			if got := h.f.wakeCount() - wakes; got != 0 {
				t.Fatalf("%d wake-ups for a run whose labels are served, want 0 (it frees nothing)", got)
			}
			tm, err := s.GetTemplate(ctx, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if tm.LabelMismatch != "" {
				t.Fatalf("label_mismatch still %q", tm.LabelMismatch)
			}
			if len(h.f.mismatch) != 1 {
				t.Fatalf("served labels counted as mismatch: %v", h.f.mismatch)
			}
		})
		t.Run("a later queued job of the run with served labels clears the job's flag", func(t *testing.T) {
			j := h.job(core.StatusTriggered, 8401, false)
			h.post("workflow_job", wjob{Action: "queued", ID: 8402, RunID: 8401, Labels: []string{"self-hosted", "alpha", "gpu", "xl"}}.payload())
			if got := h.getJob(j.ID).LabelMismatch; got != "runs-on asks for gpu, xl; no runner of group alpha has them all" {
				t.Fatalf("job label_mismatch %q", got)
			}
			h.post("workflow_job", wjob{Action: "queued", ID: 8403, RunID: 8401}.payload())
			if got := h.getJob(j.ID).LabelMismatch; got != "" {
				t.Fatalf("job label_mismatch still %q", got)
			}
		})
		t.Run("the run's in_progress first, then the job's names the runner on the running job", func(t *testing.T) {
			j := h.job(core.StatusTriggered, 8501, false)
			h.post("workflow_run", wrun{Action: "in_progress", ID: 8501}.payload())
			if got := h.getJob(j.ID); got.Status != core.StatusRunning || got.RunnerName != "" {
				t.Fatalf("job %s runner %q after the run's in_progress", got.Status, got.RunnerName)
			}
			h.post("workflow_job", wjob{Action: "in_progress", ID: 8502, RunID: 8501, RunnerID: 80, RunnerName: "runner-80"}.payload())
			if got := h.getJob(j.ID); got.Status != core.StatusRunning || got.RunnerName != "runner-80" {
				t.Fatalf("job %s runner %q, want running on runner-80", got.Status, got.RunnerName)
			}
			if !slices.ContainsFunc(h.f.changed, func(c core.Job) bool { return c.ID == j.ID && c.RunnerName == "runner-80" }) {
				t.Fatal("runner name not announced")
			}
			// A finished job keeps the runner it finished on, even when a
			// late in_progress of another job of its run names another.
			h.post("workflow_run", wrun{Action: "completed", ID: 8501, Conclusion: "success"}.payload())
			h.post("workflow_job", wjob{Action: "in_progress", ID: 8503, RunID: 8501, RunnerID: 80, RunnerName: "runner-other"}.payload())
			if got := h.getJob(j.ID); got.Status != core.StatusCompleted || got.RunnerName != "runner-80" {
				t.Fatalf("finished job %s runner %q, want completed on runner-80", got.Status, got.RunnerName)
			}
		})
	})
}
