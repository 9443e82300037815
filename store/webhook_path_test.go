package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// The statements a workflow_job delivery runs were folded (the job lookup
// into the upsert, the runner reads into the runner update); these tests pin
// that the folded forms say exactly what the separate reads said.

func TestApplyGitHubJobOfRunFindsOurJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		ours := waitingForRun(t, s, core.StatusTriggered)
		const ourRun = 88000
		if _, err := s.AttachRun(ctx, ours.ID, ourRun, ""); err != nil {
			t.Fatal(err)
		}

		t.Run("a job of our run is linked and its job returned", func(t *testing.T) {
			j := store.GitHubJob{ID: 501, RunID: ourRun, Repo: "o/r", Status: store.GitHubJobQueued, Labels: []string{"gpu"}}
			jobID, applied, err := s.ApplyGitHubJobOfRun(ctx, j)
			if err != nil || !applied || jobID != ours.ID {
				t.Fatalf("apply: job=%d applied=%v err=%v, want job %d applied", jobID, applied, err, ours.ID)
			}
			got, err := s.GetGitHubJob(ctx, 501)
			if err != nil || got.JobID != ours.ID {
				t.Fatalf("stored link %d (err %v), want %d", got.JobID, err, ours.ID)
			}
			want, err := s.FindJobByRunID(ctx, ourRun)
			if err != nil || want.ID != jobID {
				t.Fatalf("FindJobByRunID says %d (err %v), the upsert said %d", want.ID, err, jobID)
			}
		})
		t.Run("a job of someone else's run returns no job", func(t *testing.T) {
			jobID, applied, err := s.ApplyGitHubJobOfRun(ctx, store.GitHubJob{ID: 502, RunID: 99000, Repo: "o/r", Status: store.GitHubJobQueued})
			if err != nil || !applied || jobID != 0 {
				t.Fatalf("apply: job=%d applied=%v err=%v, want job 0 applied", jobID, applied, err)
			}
			if _, err := s.FindJobByRunID(ctx, 99000); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("run 99000 has a job of ours: %v", err)
			}
		})
		t.Run("an update keeps monotonic rules and still finds the job", func(t *testing.T) {
			started := store.GitHubJob{ID: 501, RunID: ourRun, Repo: "o/r", Status: store.GitHubJobInProgress, RunnerID: 7, RunnerName: "r7"}
			jobID, applied, err := s.ApplyGitHubJobOfRun(ctx, started)
			if err != nil || !applied || jobID != ours.ID {
				t.Fatalf("in_progress: job=%d applied=%v err=%v", jobID, applied, err)
			}
			got, _ := s.GetGitHubJob(ctx, 501)
			if len(got.Labels) != 1 || got.Labels[0] != "gpu" || got.RunnerName != "r7" {
				t.Fatalf("after in_progress %+v: labels of queued and runner of in_progress must both be kept", got)
			}
			done := started
			done.Status, done.Conclusion = store.GitHubJobCompleted, "success"
			if _, applied, err := s.ApplyGitHubJobOfRun(ctx, done); err != nil || !applied {
				t.Fatalf("completed: applied=%v err=%v", applied, err)
			}
			late := started
			jobID, applied, err = s.ApplyGitHubJobOfRun(ctx, late)
			if err != nil || applied || jobID != 0 {
				t.Fatalf("in_progress after completed: job=%d applied=%v err=%v, want refused", jobID, applied, err)
			}
			if got, _ := s.GetGitHubJob(ctx, 501); got.Status != store.GitHubJobCompleted {
				t.Fatalf("a late event moved the job back to %s", got.Status)
			}
		})
		t.Run("bad input is refused before any SQL", func(t *testing.T) {
			for _, j := range []store.GitHubJob{
				{ID: 0, RunID: 1, Repo: "o/r", Status: store.GitHubJobQueued},
				{ID: 1, RunID: 1, Repo: "nope", Status: store.GitHubJobQueued},
				{ID: 1, RunID: 1, Repo: "o/r", Status: "exploded"},
			} {
				if _, _, err := s.ApplyGitHubJobOfRun(ctx, j); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("%+v: %v, want ErrInvalid", j, err)
				}
			}
		})
	})
}

func TestStartRunnerJobReportsChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return clock })
		mustReplace(t, s, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{runner(1), runner(2)}})

		t.Run("an idle runner taking a job changed and is returned busy", func(t *testing.T) {
			r, changed, err := s.StartRunnerJob(ctx, 1, 10)
			if err != nil || !changed {
				t.Fatalf("start: changed=%v err=%v", changed, err)
			}
			if !r.Busy || r.CurrentJobID != 10 || r.Status != core.RunnerOnline || r.ID != 1 || r.Scope != "org:a" {
				t.Fatalf("returned %+v, want runner 1 of org:a busy with 10", r)
			}
			stored, _ := s.GetRunner(ctx, 1)
			if !stored.Busy || stored.CurrentJobID != 10 || !stored.UpdatedAt.Equal(r.UpdatedAt) || !stored.SeenAt.Equal(r.SeenAt) {
				t.Fatalf("returned %+v but stored %+v", r, stored)
			}
		})
		t.Run("the same job again changes nothing but is still seen", func(t *testing.T) {
			clock = clock.Add(time.Minute)
			r, changed, err := s.StartRunnerJob(ctx, 1, 10)
			if err != nil || changed {
				t.Fatalf("repeat: changed=%v err=%v, want unchanged", changed, err)
			}
			if !r.Busy || r.CurrentJobID != 10 || !r.SeenAt.Equal(clock) {
				t.Fatalf("repeat left %+v, want busy with 10 and seen at %s", r, clock)
			}
		})
		t.Run("another job on a busy runner changed", func(t *testing.T) {
			r, changed, err := s.StartRunnerJob(ctx, 1, 11)
			if err != nil || !changed || r.CurrentJobID != 11 {
				t.Fatalf("newer job: %+v changed=%v err=%v", r, changed, err)
			}
		})
		t.Run("a job GitHub already completed is refused", func(t *testing.T) {
			if _, err := s.ApplyGitHubJob(ctx, ghJob(12, store.GitHubJobCompleted)); err != nil {
				t.Fatal(err)
			}
			r, changed, err := s.StartRunnerJob(ctx, 2, 12)
			if err != nil || changed || r.Busy {
				t.Fatalf("completed job: %+v changed=%v err=%v, want idle and unchanged", r, changed, err)
			}
		})
		t.Run("an unknown runner is not found", func(t *testing.T) {
			if _, _, err := s.StartRunnerJob(ctx, 404, 13); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown runner: %v, want ErrNotFound", err)
			}
			if _, _, err := s.StartRunnerJob(ctx, 1, 0); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("job 0: %v, want ErrInvalid", err)
			}
		})
		t.Run("freeing returns the idle runner only for its current job", func(t *testing.T) {
			if r, freed, err := s.FreeRunnerOfJob(ctx, 1, 10); err != nil || freed || r.ID != 0 {
				t.Fatalf("older job freed it: %+v freed=%v err=%v", r, freed, err)
			}
			r, freed, err := s.FreeRunnerOfJob(ctx, 1, 11)
			if err != nil || !freed || r.Busy || r.CurrentJobID != 0 || r.ID != 1 {
				t.Fatalf("current job: %+v freed=%v err=%v, want runner 1 idle", r, freed, err)
			}
			if _, freed, err := s.FreeRunnerOfJob(ctx, 1, 11); err != nil || freed {
				t.Fatalf("freed twice: freed=%v err=%v", freed, err)
			}
		})
	})
}
