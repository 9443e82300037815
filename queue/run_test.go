package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// inTx runs fn on a transaction, like a webhook delivery, and fails the
// test if the transaction fails.
func inTx(t *testing.T, s *store.Store, fn func(q *store.Q) (queue.Outcome, error)) queue.Outcome {
	t.Helper()
	var out queue.Outcome
	if err := s.InTx(context.Background(), func(q *store.Q) error {
		var err error
		out, err = fn(q)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunTxMethodsAnnounceOnlyWhenEmittedAndChanged(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		jobLine := func(j core.Job) []string { return []string{fmt.Sprintf("job %d %s", j.ID, j.Status)} }

		t.Run("advance to running names the runner and announces the job alone", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusTriggered)
			f.events.take()
			out := inTx(t, s, func(q *store.Q) (queue.Outcome, error) {
				return f.svc.AdvanceTx(ctx, q, j, core.StatusRunning, "runner-9")
			})
			if got := f.events.take(); len(got) != 0 {
				t.Fatalf("AdvanceTx announced %v before Emit", got)
			}
			if !out.Changed() || out.Job.Status != core.StatusRunning || out.Job.RunnerName != "runner-9" {
				t.Fatalf("outcome %+v changed=%v, want running on runner-9", out.Job, out.Changed())
			}
			f.svc.Emit(out)
			if got := f.events.take(); !slices.Equal(got, jobLine(out.Job)) {
				t.Fatalf("events %v, want %v", got, jobLine(out.Job))
			}
		})
		t.Run("advance tolerates news already had", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			f.events.take()
			out := inTx(t, s, func(q *store.Q) (queue.Outcome, error) {
				return f.svc.AdvanceTx(ctx, q, j, core.StatusTriggered, "")
			})
			if out.Changed() || out.Job.Status != core.StatusRunning {
				t.Fatalf("triggered after running: outcome %+v changed=%v, want the job unchanged", out.Job, out.Changed())
			}
			f.svc.Emit(out)
			if got := f.events.take(); len(got) != 0 {
				t.Fatalf("an unchanged outcome announced %v", got)
			}
		})
		t.Run("advance re-reads a job that moved meanwhile", func(t *testing.T) {
			stale := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusDispatching)
			f.run2(t, stale, core.StatusTriggered)
			out := inTx(t, s, func(q *store.Q) (queue.Outcome, error) {
				return f.svc.AdvanceTx(ctx, q, stale, core.StatusRunning, "runner-3")
			})
			if !out.Changed() || out.Job.Status != core.StatusRunning {
				t.Fatalf("outcome %+v, want running after re-reading the triggered job", out.Job)
			}
		})
		t.Run("advance refuses a terminal target", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			err := s.InTx(ctx, func(q *store.Q) error {
				_, err := f.svc.AdvanceTx(ctx, q, j, core.StatusCompleted, "")
				return err
			})
			if !errors.Is(err, core.ErrTransition) {
				t.Fatalf("advance to completed: %v, want core.ErrTransition (FinishTx ends jobs)", err)
			}
		})
		t.Run("naming the runner", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			f.events.take()
			for _, c := range []struct {
				name, runner string
				changed      bool
			}{
				{"the same name is nothing new", j.RunnerName, false},
				{"no name is nothing new", "", false},
				{"a new name is recorded", "runner-77", true},
			} {
				out := inTx(t, s, func(q *store.Q) (queue.Outcome, error) { return f.svc.NameRunnerTx(ctx, q, j, c.runner) })
				if out.Changed() != c.changed {
					t.Fatalf("%s: changed=%v, want %v", c.name, out.Changed(), c.changed)
				}
				if c.changed && out.Job.RunnerName != c.runner {
					t.Fatalf("%s: runner %q, want %q", c.name, out.Job.RunnerName, c.runner)
				}
			}
			done, err := f.svc.Finish(ctx, j.ID, "success", "")
			if err != nil {
				t.Fatal(err)
			}
			out := inTx(t, s, func(q *store.Q) (queue.Outcome, error) { return f.svc.NameRunnerTx(ctx, q, done.Job, "late") })
			if out.Changed() {
				t.Fatal("a finished job was renamed")
			}
		})
		t.Run("attach a run to a triggered job without one", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusDispatching)
			j = f.run2(t, j, core.StatusTriggered)
			f.events.take()
			got, err := f.svc.AttachRun(ctx, j.ID, 99001, "https://github.com/o/r/actions/runs/99001")
			if err != nil || got.RunID != 99001 {
				t.Fatalf("AttachRun: %+v %v", got, err)
			}
			if ev := f.events.take(); !slices.Equal(ev, jobLine(got)) {
				t.Fatalf("events %v, want %v", ev, jobLine(got))
			}
			other := f.run2(t, f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusDispatching), core.StatusTriggered)
			if _, err := f.svc.AttachRun(ctx, other.ID, 99001, ""); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("attach another job's run: %v, want store.ErrDuplicate", err)
			}
		})
		t.Run("label mismatch is recorded and cleared", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusTriggered)
			for _, text := range []string{"runs-on asks for gpu", ""} {
				out := inTx(t, s, func(q *store.Q) (queue.Outcome, error) { return f.svc.SetLabelMismatchTx(ctx, q, j.ID, text) })
				if !out.Changed() || out.Job.LabelMismatch != text {
					t.Fatalf("label mismatch %q: outcome %+v", text, out.Job)
				}
			}
		})
		t.Run("an error is recorded on an active job only", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusTriggered)
			f.events.take()
			got, err := f.svc.SetError(ctx, j.ID, "run did not start within 30m0s")
			if err != nil || got.Error != "run did not start within 30m0s" {
				t.Fatalf("SetError: %+v %v", got, err)
			}
			if ev := f.events.take(); !slices.Equal(ev, jobLine(got)) {
				t.Fatalf("events %v, want %v", ev, jobLine(got))
			}
			if _, err := f.svc.Finish(ctx, j.ID, "success", ""); err != nil {
				t.Fatal(err)
			}
			f.events.take()
			if _, err := f.svc.SetError(ctx, j.ID, "late"); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("SetError on a finished job: %v, want store.ErrConflict", err)
			}
			if ev := f.events.take(); len(ev) != 0 {
				t.Fatalf("a refused SetError announced %v", ev)
			}
		})
	})
}

// run2 moves a dispatching job to triggered without a run (a dispatch
// answered without run details).
func (f *fixture) run2(t *testing.T, j core.Job, to core.JobStatus) core.Job {
	t.Helper()
	got, err := f.store.Transition(context.Background(), store.TransitionRequest{JobID: j.ID, From: j.Status, To: to, AttemptID: j.AttemptID})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
