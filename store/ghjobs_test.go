package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func ghJob(id int64, st store.GitHubJobStatus) store.GitHubJob {
	return store.GitHubJob{ID: id, RunID: 1000 + id, Repo: "acme/app", Status: st}
}

func permutations[T any](xs []T) [][]T {
	if len(xs) <= 1 {
		return [][]T{slices.Clone(xs)}
	}
	var out [][]T
	for i := range xs {
		rest := slices.Concat(xs[:i:i], xs[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]T{xs[i]}, p...))
		}
	}
	return out
}

// event is what each status's webhook carries in these tests: labels come
// with queued, the runner with in_progress, the conclusion with completed.
func event(id int64, st store.GitHubJobStatus) store.GitHubJob {
	j := ghJob(id, st)
	switch st {
	case store.GitHubJobQueued, store.GitHubJobWaiting:
		j.Labels = []string{"self-hosted", "GPU"}
	case store.GitHubJobInProgress:
		j.RunnerID, j.RunnerName = 77, "runner-77"
	case store.GitHubJobCompleted:
		j.RunnerID, j.RunnerName, j.Conclusion = 77, "runner-77", "success"
	}
	return j
}

func TestApplyGitHubJobIsMonotonicInEveryOrder(t *testing.T) {
	t.Parallel()
	statuses := []store.GitHubJobStatus{store.GitHubJobQueued, store.GitHubJobWaiting, store.GitHubJobInProgress, store.GitHubJobCompleted}
	orders := permutations(statuses)
	if len(orders) != 24 {
		t.Fatalf("got %d orders, want 24", len(orders))
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, order := range orders {
			id := int64(i + 1)
			name := fmt.Sprint(order)
			highest := -1
			for _, st := range order {
				rank, _ := st.Rank()
				// The rule under test, stated independently: never below the
				// highest rank seen, and nothing after completed.
				want := rank > highest || (rank == highest && highest < 2)
				applied, err := s.ApplyGitHubJob(ctx, event(id, st))
				if err != nil {
					t.Fatalf("%s: apply %s: %v", name, st, err)
				}
				if applied != want {
					t.Fatalf("%s: apply %s after highest rank %d: applied=%v, want %v", name, st, highest, applied, want)
				}
				highest = max(highest, rank)
			}
			got, err := s.GetGitHubJob(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != store.GitHubJobCompleted || got.Conclusion != "success" || got.RunnerName != "runner-77" {
				t.Fatalf("%s: ended as %+v, want completed/success on runner-77", name, got)
			}
		}
		queued, err := s.QueuedGitHubJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(queued) != 0 {
			t.Fatalf("completed jobs still counted as queued demand: %+v", queued)
		}
	})
}

func TestApplyGitHubJobKeepsWhatLaterEventsOmit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		q := event(1, store.GitHubJobQueued)
		q.JobID, q.WorkflowName, q.HeadBranch = 55, "ci", "main"
		if _, err := s.ApplyGitHubJob(ctx, q); err != nil {
			t.Fatal(err)
		}
		// The in_progress event knows nothing of our job id or the labels.
		if _, err := s.ApplyGitHubJob(ctx, store.GitHubJob{ID: 1, RunID: q.RunID, Repo: q.Repo, Status: store.GitHubJobInProgress, RunnerID: 9}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetGitHubJob(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.JobID != 55 || !slices.Equal(got.Labels, []string{"self-hosted", "gpu"}) || got.WorkflowName != "ci" || got.HeadBranch != "main" || got.RunnerID != 9 || got.RunAttempt != 1 {
			t.Fatalf("after in_progress: %+v, want job id, labels, workflow and branch kept, runner 9", got)
		}
	})
}

func TestApplyGitHubJobRefusesBadEvents(t *testing.T) {
	t.Parallel()
	cases := map[string]store.GitHubJob{
		"unknown status":      {ID: 1, RunID: 1, Repo: "a/b", Status: "done"},
		"missing job id":      {RunID: 1, Repo: "a/b", Status: store.GitHubJobQueued},
		"missing run id":      {ID: 1, Repo: "a/b", Status: store.GitHubJobQueued},
		"repo without owner":  {ID: 1, RunID: 1, Repo: "b", Status: store.GitHubJobQueued},
		"empty status string": {ID: 1, RunID: 1, Repo: "a/b"},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for name, j := range cases {
			t.Run(name, func(t *testing.T) {
				if _, err := s.ApplyGitHubJob(context.Background(), j); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
			})
		}
	})
}

func TestQueuedGitHubJobsAreTheWaitingDemand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for id, st := range map[int64]store.GitHubJobStatus{
			1: store.GitHubJobQueued, 2: store.GitHubJobWaiting, 3: store.GitHubJobInProgress,
			4: store.GitHubJobCompleted, 5: store.GitHubJobPending,
		} {
			if _, err := s.ApplyGitHubJob(ctx, event(id, st)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.QueuedGitHubJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, j := range got {
			ids = append(ids, j.ID)
			if j.RunID != 1000+j.ID {
				t.Fatalf("job %d run id %d, want %d", j.ID, j.RunID, 1000+j.ID)
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []int64{1, 2, 5}) {
			t.Fatalf("queued demand = %v, want [1 2 5]", ids)
		}
		if got[0].Labels == nil {
			t.Fatal("queued job lost its labels")
		}
	})
}

func TestGitHubJobsOfRunLinkAndComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for id, st := range map[int64]store.GitHubJobStatus{1: store.GitHubJobQueued, 2: store.GitHubJobInProgress, 3: store.GitHubJobQueued} {
			j := event(id, st)
			j.RunID = 500
			if id == 3 {
				j.JobID = 8 // already linked
			}
			if _, err := s.ApplyGitHubJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.LinkGitHubRunToJob(ctx, 500, 7); err != nil || n != 2 {
			t.Fatalf("link: n=%d err=%v, want 2 linked", n, err)
		}
		if n, err := s.CompleteQueuedJobsOfRun(ctx, 500, "cancelled"); err != nil || n != 2 {
			t.Fatalf("complete queued: n=%d err=%v, want 2", n, err)
		}
		jobs, err := s.GitHubJobsOfRun(ctx, 500)
		if err != nil || len(jobs) != 3 {
			t.Fatalf("jobs of run: %v %v", jobs, err)
		}
		want := []struct {
			st    store.GitHubJobStatus
			jobID int64
		}{{store.GitHubJobCompleted, 7}, {store.GitHubJobInProgress, 7}, {store.GitHubJobCompleted, 8}}
		for i, j := range jobs {
			if j.Status != want[i].st || j.JobID != want[i].jobID {
				t.Fatalf("job %d = %s linked to %d, want %s linked to %d", j.ID, j.Status, j.JobID, want[i].st, want[i].jobID)
			}
		}
	})
}

func TestDeleteGitHubJobsBeforeKeepsUnfinished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		for id, st := range map[int64]store.GitHubJobStatus{1: store.GitHubJobQueued, 2: store.GitHubJobInProgress, 3: store.GitHubJobCompleted} {
			if _, err := s.ApplyGitHubJob(ctx, event(id, st)); err != nil {
				t.Fatal(err)
			}
		}
		cutoff := clk.Now().Add(time.Hour)
		clk.Advance(2 * time.Hour)
		if _, err := s.ApplyGitHubJob(ctx, event(4, store.GitHubJobCompleted)); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteGitHubJobsBefore(ctx, cutoff)
		if err != nil || n != 1 {
			t.Fatalf("deleted %d (err %v), want only the old completed job", n, err)
		}
		for id, want := range map[int64]bool{1: true, 2: true, 3: false, 4: true} {
			_, err := s.GetGitHubJob(ctx, id)
			if (err == nil) != want || (err != nil && !errors.Is(err, store.ErrNotFound)) {
				t.Fatalf("job %d: err=%v, want present=%v", id, err, want)
			}
		}
	})
}

// Two replicas receiving the events of one job at the same moment must still
// end at completed: the monotonic rule is enforced by the database.
func TestApplyGitHubJobConcurrentReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	a := openPostgres(t, dsn, true)
	b := openPostgres(t, dsn, false)
	for id := int64(1); id <= 20; id++ {
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for i, st := range []store.GitHubJobStatus{store.GitHubJobCompleted, store.GitHubJobInProgress, store.GitHubJobQueued} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := a
				if i%2 == 1 {
					h = b
				}
				if _, err := h.ApplyGitHubJob(ctx, event(id, st)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, err := a.GetGitHubJob(ctx, id)
		if err != nil || got.Status != store.GitHubJobCompleted {
			t.Fatalf("job %d after concurrent events: %+v %v, want completed", id, got, err)
		}
	}
}

func openPostgres(t *testing.T, dsn string, migrate bool) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{Driver: store.DriverPostgres, PostgresDSN: dsn, Migrate: migrate})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
