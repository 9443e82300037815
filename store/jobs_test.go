package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestTransitionStampsTimestampsAndRunFacts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		j := insert(t, s, manualJob("alpha"), store.Placement{})
		step := func(req store.TransitionRequest) core.Job {
			t.Helper()
			clock.Advance(time.Minute)
			req.JobID = j.ID
			out, err := s.Transition(ctx, req)
			if err != nil {
				t.Fatalf("%s -> %s: %v", req.From, req.To, err)
			}
			if !out.UpdatedAt.Equal(clock.Now()) {
				t.Fatalf("%s -> %s: updated_at %v, want %v", req.From, req.To, out.UpdatedAt, clock.Now())
			}
			return out
		}
		d := step(store.TransitionRequest{From: core.StatusPending, To: core.StatusDispatching, NewAttemptID: "att-1"})
		if d.AttemptID != "att-1" || d.DispatchingAt == nil || !d.DispatchingAt.Equal(clock.Now()) {
			t.Fatalf("dispatching: %+v", d)
		}
		tr := step(store.TransitionRequest{From: core.StatusDispatching, To: core.StatusTriggered, AttemptID: "att-1",
			RunID: 555, RunURL: "https://github.com/o/r/actions/runs/555"})
		if tr.RunID != 555 || tr.RunURL == "" || tr.TriggeredAt == nil || !tr.TriggeredAt.Equal(clock.Now()) {
			t.Fatalf("triggered: %+v", tr)
		}
		r := step(store.TransitionRequest{From: core.StatusTriggered, To: core.StatusRunning, RunnerName: "runner-7"})
		if r.RunnerName != "runner-7" || r.StartedAt == nil || !r.TriggeredAt.Equal(*tr.TriggeredAt) {
			t.Fatalf("running: %+v", r)
		}
		c := step(store.TransitionRequest{From: core.StatusRunning, To: core.StatusFailed, Conclusion: "timed_out"})
		if c.Conclusion != "timed_out" || c.CompletedAt == nil || c.RunID != 555 || c.RunnerName != "runner-7" {
			t.Fatalf("failed: %+v", c)
		}
		if byRun, err := s.FindJobByRunID(ctx, 555); err != nil || byRun.ID != j.ID {
			t.Fatalf("find by run: %v %v", byRun.ID, err)
		}
		if _, err := s.FindJobByRunID(ctx, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("find unknown run: %v", err)
		}
	})
}

func TestTransitionRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		pending := insert(t, s, manualJob("alpha"), store.Placement{})
		dispatching := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching)
		done := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching, core.StatusTriggered, core.StatusRunning, core.StatusCompleted)
		for _, c := range []struct {
			name string
			req  store.TransitionRequest
			want error
		}{
			{"state machine refuses pending -> running", store.TransitionRequest{JobID: pending.ID, From: core.StatusPending, To: core.StatusRunning}, core.ErrTransition},
			{"terminal states are final", store.TransitionRequest{JobID: done.ID, From: core.StatusCompleted, To: core.StatusFailed}, core.ErrTransition},
			{"stale from status loses", store.TransitionRequest{JobID: pending.ID, From: core.StatusDispatching, To: core.StatusTriggered}, store.ErrConflict},
			{"stale attempt loses", store.TransitionRequest{JobID: dispatching.ID, From: core.StatusDispatching, To: core.StatusTriggered, AttemptID: "other"}, store.ErrConflict},
			{"dispatching needs an attempt id", store.TransitionRequest{JobID: pending.ID, From: core.StatusPending, To: core.StatusDispatching}, store.ErrInvalid},
			{"unknown job", store.TransitionRequest{JobID: 99999, From: core.StatusPending, To: core.StatusCancelled}, store.ErrNotFound},
			{"a run id owned by another job", store.TransitionRequest{JobID: dispatching.ID, From: core.StatusDispatching, To: core.StatusTriggered, RunID: done.RunID}, store.ErrDuplicate},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, err := s.Transition(ctx, c.req); !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
			})
		}
		if j, _ := s.GetJob(ctx, dispatching.ID); j.Status != core.StatusDispatching || j.RunID != 0 {
			t.Fatalf("a refused transition changed the job: %+v", j)
		}
	})
}

func TestReturnToPendingWithBackOffIsNotClaimedUntilItPasses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching)
		until := clock.Now().Add(30 * time.Second)
		if _, err := s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching, To: core.StatusPending,
			AttemptID: j.AttemptID, Error: "502 from GitHub", DispatchAfter: &until}); err != nil {
			t.Fatal(err)
		}
		attempt := func() string { return "a-" + clock.Now().Format(time.RFC3339Nano) }
		if got, _ := s.ClaimNextPending(ctx, "alpha", 1, attempt); len(got) != 0 {
			t.Fatal("a backing-off job was claimed")
		}
		clock.Advance(31 * time.Second)
		got, err := s.ClaimNextPending(ctx, "alpha", 1, attempt)
		if err != nil || len(got) != 1 || got[0].ID != j.ID || got[0].DispatchAfter != nil || got[0].AttemptID == j.AttemptID {
			t.Fatalf("claim after back-off = %+v, %v", got, err)
		}
	})
}

func TestClaimNextPendingTakesOnlyDispatchableJobsInOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		ids := insertN(t, s, "alpha", 6)
		if _, err := s.SetJobPaused(ctx, ids[0], true); err != nil {
			t.Fatal(err)
		}
		later := clock.Now().Add(time.Hour)
		if _, err := s.SetDispatchAfter(ctx, ids[1], &later); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MoveJob(ctx, ids[4], &ids[2]); err != nil {
			t.Fatal(err)
		}
		n := 0
		attempt := func() string { n++; return fmt.Sprintf("claim-%d", n) }

		if _, err := s.SetGroupPaused(ctx, "alpha", true); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClaimNextPending(ctx, "alpha", 10, attempt); err != nil || len(got) != 0 {
			t.Fatalf("paused group yielded %d jobs (%v)", len(got), err)
		}
		if _, err := s.SetGroupPaused(ctx, "alpha", false); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimNextPending(ctx, "alpha", 2, attempt)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != ids[4] || got[1].ID != ids[2] {
			t.Fatalf("claimed %+v, want jobs %d and %d (queue order, skipping paused and backing-off)", got, ids[4], ids[2])
		}
		for _, j := range got {
			if j.Status != core.StatusDispatching || j.AttemptID == "" || j.DispatchingAt == nil {
				t.Fatalf("claimed job not dispatching with an attempt: %+v", j)
			}
		}
		rest, err := s.ClaimNextPending(ctx, "alpha", 10, attempt)
		if err != nil || len(rest) != 2 || rest[0].ID != ids[3] || rest[1].ID != ids[5] {
			t.Fatalf("second claim = %+v, %v; want %d and %d", rest, err, ids[3], ids[5])
		}
		if _, err := s.ClaimNextPending(ctx, "gamma", 1, attempt); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("claim in unknown group: %v", err)
		}
	})
}

func TestPendingOnlyOperationsRefuseOtherStates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ref := "dev"
		for _, st := range []core.JobStatus{core.StatusDispatching, core.StatusRunning, core.StatusCancelled} {
			path := map[core.JobStatus][]core.JobStatus{
				core.StatusDispatching: {core.StatusDispatching},
				core.StatusRunning:     {core.StatusDispatching, core.StatusTriggered, core.StatusRunning},
				core.StatusCancelled:   {core.StatusCancelled},
			}[st]
			j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, path...)
			for _, c := range []struct {
				name string
				err  error
				want error
			}{
				{"update", second(s.UpdatePendingJob(ctx, store.JobUpdate{JobID: j.ID, Ref: &ref})), store.ErrConflict},
				{"delete", s.DeletePendingJob(ctx, j.ID), store.ErrConflict},
				{"pause", second(s.SetJobPaused(ctx, j.ID, true)), core.ErrTransition},
				{"back-off", second(s.SetDispatchAfter(ctx, j.ID, nil)), store.ErrConflict},
			} {
				t.Run(c.name+" of a "+string(st)+" job", func(t *testing.T) {
					if !errors.Is(c.err, c.want) {
						t.Fatalf("err = %v, want %v", c.err, c.want)
					}
				})
			}
			if after, _ := s.GetJob(ctx, j.ID); after.Ref != "main" || after.Status != st {
				t.Fatalf("refused operations changed the %s job: %+v", st, after)
			}
		}
		if err := s.DeletePendingJob(ctx, 31337); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete unknown job: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestUpdatePendingJobAndDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		j := insert(t, s, manualJob("alpha"), store.Placement{})
		ref, auto, limit := "v2", true, 4
		got, err := s.UpdatePendingJob(ctx, store.JobUpdate{JobID: j.ID, Ref: &ref, Inputs: map[string]string{"a": "1"}, AutoRequeue: &auto, RequeueLimit: &limit})
		if err != nil {
			t.Fatal(err)
		}
		if got.Ref != "v2" || len(got.Inputs) != 1 || got.Inputs["a"] != "1" || !got.AutoRequeue || got.RequeueLimit != 4 {
			t.Fatalf("after update: %+v", got)
		}
		if got, err = s.UpdatePendingJob(ctx, store.JobUpdate{JobID: j.ID}); err != nil || got.Ref != "v2" {
			t.Fatalf("empty update changed the job or failed: %+v %v", got, err)
		}
		neg := -1
		if _, err := s.UpdatePendingJob(ctx, store.JobUpdate{JobID: j.ID, RequeueLimit: &neg}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("negative limit: %v", err)
		}
		if err := s.DeletePendingJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetJob(ctx, j.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted job still there: %v", err)
		}
	})
}

func TestCancelRequestedAndAutoRequeueOnActiveJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		pending := insert(t, s, manualJob("alpha"), store.Placement{})
		running := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
		done := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusCancelled)
		if _, err := s.SetCancelRequested(ctx, pending.ID); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("cancel-requested on pending: %v", err)
		}
		if j, err := s.SetCancelRequested(ctx, running.ID); err != nil || !j.CancelRequested {
			t.Fatalf("cancel-requested on running: %+v %v", j, err)
		}
		if j, err := s.SetJobAutoRequeue(ctx, running.ID, true, 2); err != nil || !j.AutoRequeue || j.RequeueLimit != 2 {
			t.Fatalf("auto-requeue on running: %+v %v", j, err)
		}
		if _, err := s.SetJobAutoRequeue(ctx, done.ID, true, 2); !errors.Is(err, core.ErrTransition) {
			t.Fatalf("auto-requeue on a cancelled job: %v", err)
		}
		active, err := s.ListJobsByStatus(ctx, core.StatusTriggered, core.StatusRunning)
		if err != nil || len(active) != 1 || active[0].ID != running.ID {
			t.Fatalf("active jobs = %+v, %v", active, err)
		}
	})
}

func TestAPausedJobIsNeverMovedToDispatching(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		j := insert(t, s, manualJob("alpha"), store.Placement{})
		if _, err := s.SetJobPaused(ctx, j.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err := s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusPending, To: core.StatusDispatching, NewAttemptID: "x"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("dispatching a paused job: %v, want ErrConflict", err)
		}
	})
}

func TestCancellingAPausedPendingJobClearsPaused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		j := insert(t, s, manualJob("alpha"), store.Placement{})
		if _, err := s.SetJobPaused(ctx, j.ID, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusPending, To: core.StatusCancelled})
		if err != nil || got.Paused || got.CompletedAt == nil {
			t.Fatalf("cancel paused job: %+v %v", got, err)
		}
	})
}

// raceOne runs n contenders at once and checks that exactly one succeeds and
// every other one gets ErrConflict.
func raceOne(t *testing.T, n int, try func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = try(i)
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("contender %d: %v, want ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d contenders won, want exactly 1", wins)
	}
}

func TestConcurrentTransitionsOfOneJobHaveOneWinner(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		j := insert(t, s, manualJob("alpha"), store.Placement{})
		raceOne(t, 8, func(i int) error {
			_, err := s.Transition(context.Background(), store.TransitionRequest{
				JobID: j.ID, From: core.StatusPending, To: core.StatusDispatching, NewAttemptID: fmt.Sprintf("att-%d", i)})
			return err
		})
	})
}

// Two replicas are two pools on one PostgreSQL: the group lock and the
// conditional updates must hold across connections, not just goroutines.
func TestTwoPostgresReplicasClaimAndTransitionOneJobOnce(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	var replicas []*store.Store
	for range 2 {
		s, err := store.Open(ctx, store.Options{Driver: store.DriverPostgres, PostgresDSN: dsn, Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		replicas = append(replicas, s)
	}
	seed(t, replicas[0])
	for round := range 5 {
		j := insert(t, replicas[0], manualJob("alpha"), store.Placement{})
		var mu sync.Mutex
		claimed := 0
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				got, err := replicas[i%2].ClaimNextPending(ctx, "alpha", 1, func() string { return fmt.Sprintf("r%d-c%d", round, i) })
				if err != nil {
					t.Errorf("claim: %v", err)
				}
				mu.Lock()
				claimed += len(got)
				mu.Unlock()
			})
		}
		wg.Wait()
		if claimed != 1 {
			t.Fatalf("round %d: job claimed %d times across replicas, want once", round, claimed)
		}
		cur, err := replicas[1].GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		raceOne(t, 6, func(i int) error {
			_, err := replicas[i%2].Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching,
				To: core.StatusTriggered, AttemptID: cur.AttemptID, RunID: int64(9000 + round)})
			return err
		})
	}
}
