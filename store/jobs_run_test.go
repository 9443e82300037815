package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// waitingForRun puts a job into dispatching or triggered without a run id, as
// a dispatch without run details leaves it.
func waitingForRun(t *testing.T, s *store.Store, to core.JobStatus) core.Job {
	t.Helper()
	ctx := context.Background()
	j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching)
	if to == core.StatusTriggered {
		var err error
		if j, err = s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: j.Status, To: to}); err != nil {
			t.Fatalf("trigger without run: %v", err)
		}
	}
	if j.RunID != 0 || j.Status != to {
		t.Fatalf("job %+v, want %s without run", j, to)
	}
	return j
}

func TestAttachRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		const url = "https://github.com/o/r/actions/runs/"
		for _, st := range []core.JobStatus{core.StatusDispatching, core.StatusTriggered} {
			t.Run("a "+string(st)+" job without run gets it and keeps its status", func(t *testing.T) {
				j := waitingForRun(t, s, st)
				runID := 70000 + j.ID
				got, err := s.AttachRun(ctx, j.ID, runID, url+"x")
				if err != nil {
					t.Fatal(err)
				}
				if got.RunID != runID || got.RunURL != url+"x" || got.Status != st {
					t.Fatalf("job %+v, want %s with run %d", got, st, runID)
				}
				if found, err := s.FindJobByRunID(ctx, runID); err != nil || found.ID != j.ID {
					t.Fatalf("find by run: %+v %v", found, err)
				}
			})
		}
		t.Run("attaching the same run again is a no-op that keeps the url", func(t *testing.T) {
			j := waitingForRun(t, s, core.StatusTriggered)
			if _, err := s.AttachRun(ctx, j.ID, 71000, url+"first"); err != nil {
				t.Fatal(err)
			}
			got, err := s.AttachRun(ctx, j.ID, 71000, "")
			if err != nil || got.RunID != 71000 || got.RunURL != url+"first" {
				t.Fatalf("again: %+v %v", got, err)
			}
		})
		t.Run("another run on a job that has one is a conflict", func(t *testing.T) {
			j := waitingForRun(t, s, core.StatusTriggered)
			if _, err := s.AttachRun(ctx, j.ID, 72000, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AttachRun(ctx, j.ID, 72001, ""); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second run: %v, want ErrConflict", err)
			}
			if got, _ := s.GetJob(ctx, j.ID); got.RunID != 72000 {
				t.Fatalf("run id changed to %d", got.RunID)
			}
		})
		t.Run("a run owned by another job is a duplicate", func(t *testing.T) {
			a := waitingForRun(t, s, core.StatusTriggered)
			b := waitingForRun(t, s, core.StatusDispatching)
			if _, err := s.AttachRun(ctx, a.ID, 73000, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AttachRun(ctx, b.ID, 73000, ""); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("stolen run: %v, want ErrDuplicate", err)
			}
		})
		t.Run("pending, running and finished jobs are conflicts", func(t *testing.T) {
			pending := insert(t, s, manualJob("alpha"), store.Placement{})
			running := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID,
				core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
			done := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID,
				core.StatusDispatching, core.StatusFailed)
			for i, j := range []core.Job{pending, running, done} {
				if _, err := s.AttachRun(ctx, j.ID, int64(74000+i), ""); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("job %s: %v, want ErrConflict", j.Status, err)
				}
			}
		})
		t.Run("unknown job and bad run id are refused", func(t *testing.T) {
			if _, err := s.AttachRun(ctx, 999999, 75000, ""); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown job: %v", err)
			}
			j := waitingForRun(t, s, core.StatusTriggered)
			if _, err := s.AttachRun(ctx, j.ID, 0, ""); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("run 0: %v", err)
			}
		})
	})
}

func TestSetJobRunnerName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		t.Run("a running job gets the runner's name", func(t *testing.T) {
			j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID,
				core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
			if err := s.SetJobRunnerName(ctx, j.ID, "arc-1"); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.GetJob(ctx, j.ID); got.RunnerName != "arc-1" {
				t.Fatalf("runner_name %q", got.RunnerName)
			}
		})
		t.Run("a finished job keeps the name it finished with", func(t *testing.T) {
			j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID,
				core.StatusDispatching, core.StatusTriggered, core.StatusRunning, core.StatusCompleted)
			if err := s.SetJobRunnerName(ctx, j.ID, "late"); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("finished job: %v, want ErrConflict", err)
			}
			if got, _ := s.GetJob(ctx, j.ID); got.RunnerName != "" {
				t.Fatalf("runner_name %q written on a finished job", got.RunnerName)
			}
		})
		t.Run("an empty name or unknown job is refused", func(t *testing.T) {
			j := insert(t, s, manualJob("alpha"), store.Placement{})
			if err := s.SetJobRunnerName(ctx, j.ID, ""); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("empty name: %v", err)
			}
			if err := s.SetJobRunnerName(ctx, 999999, "x"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown job: %v", err)
			}
		})
	})
}

func TestSetJobLabelMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching, core.StatusTriggered)
		if j.LabelMismatch != "" {
			t.Fatalf("new job flagged %q", j.LabelMismatch)
		}
		const text = "runs-on asks for gpu-xl; no runner of group alpha has it"
		if err := s.SetJobLabelMismatch(ctx, j.ID, text); err != nil {
			t.Fatal(err)
		}
		// Read back through every path that scans jobs.
		got, _ := s.GetJob(ctx, j.ID)
		byStatus, err := s.ListJobsByStatus(ctx, core.StatusTriggered)
		if err != nil || len(byStatus) != 1 {
			t.Fatalf("list: %v %v", byStatus, err)
		}
		if got.LabelMismatch != text || byStatus[0].LabelMismatch != text {
			t.Fatalf("label_mismatch %q / %q, want %q", got.LabelMismatch, byStatus[0].LabelMismatch, text)
		}
		walk(t, s, j.ID, core.StatusFailed)
		if err := s.SetJobLabelMismatch(ctx, j.ID, ""); err != nil {
			t.Fatalf("clear on a finished job: %v", err)
		}
		if got, _ := s.GetJob(ctx, j.ID); got.LabelMismatch != "" {
			t.Fatalf("not cleared: %q", got.LabelMismatch)
		}
		if err := s.SetJobLabelMismatch(ctx, 999999, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown job: %v", err)
		}
	})
}
