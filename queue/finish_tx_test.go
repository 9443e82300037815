package queue_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

var errInjected = errors.New("injected: caller's later step failed")

func TestFinishTx(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		t.Run("commits with the caller and emits only when asked", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusRunning)
			f.events.take()
			var out queue.Outcome
			err := s.InTx(ctx, func(q *store.Q) error {
				var err error
				out, err = f.svc.FinishTx(ctx, q, j.ID, "failure", "")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.events.take(); len(got) != 0 {
				t.Fatalf("FinishTx announced %v before the caller emitted", got)
			}
			if out.Job.Status != core.StatusFailed || out.Requeued == nil || out.Requeued.RequeueCount != 1 {
				t.Fatalf("outcome %+v, want failed with a requeued copy", out)
			}
			if got, _ := s.GetJob(ctx, j.ID); got.Status != core.StatusFailed || got.RunnerName != "r-1" {
				t.Fatalf("stored job %s runner %q, want failed keeping its runner", got.Status, got.RunnerName)
			}
			f.svc.Emit(out)
			want := []string{"job " + strconv.FormatInt(j.ID, 10) + " failed", "new " + strconv.FormatInt(out.Requeued.ID, 10) + " pending", "queue alpha"}
			if got := f.events.take(); !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
		})
		t.Run("rolls back with the caller: no status change, no requeued copy", func(t *testing.T) {
			j := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusRunning)
			before := f.pending(t, "alpha")
			err := s.InTx(ctx, func(q *store.Q) error {
				if _, err := f.svc.FinishTx(ctx, q, j.ID, "success", "runner-2"); err != nil {
					return err
				}
				return errInjected
			})
			if !errors.Is(err, errInjected) {
				t.Fatalf("InTx: %v", err)
			}
			if got, _ := s.GetJob(ctx, j.ID); got.Status != core.StatusRunning || got.Conclusion != "" {
				t.Fatalf("job %s %q after rollback, want running", got.Status, got.Conclusion)
			}
			if got := f.pending(t, "alpha"); !slices.Equal(got, before) {
				t.Fatalf("pending %v after rollback, want %v", got, before)
			}
		})
		t.Run("refusals: finished, never dispatched, no conclusion", func(t *testing.T) {
			done := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			if _, err := f.svc.Finish(ctx, done.ID, "success", ""); err != nil {
				t.Fatal(err)
			}
			pending := f.enqueue(t, queue.EnqueueRequest{})
			for _, c := range []struct {
				id         int64
				conclusion string
				want       func(error) bool
			}{
				{done.ID, "failure", func(err error) bool { return errors.Is(err, core.ErrTransition) }},
				{pending.ID, "success", func(err error) bool { return errors.Is(err, core.ErrTransition) }},
				{done.ID, "", func(err error) bool { var v *queue.ValidationError; return errors.As(err, &v) }},
			} {
				err := s.InTx(ctx, func(q *store.Q) error {
					_, err := f.svc.FinishTx(ctx, q, c.id, c.conclusion, "")
					return err
				})
				if !c.want(err) {
					t.Fatalf("job %d conclusion %q: unexpected error %v", c.id, c.conclusion, err)
				}
			}
			if got, _ := s.GetJob(ctx, done.ID); got.Status != core.StatusCompleted || got.Conclusion != "success" {
				t.Fatalf("finished job changed: %s %q", got.Status, got.Conclusion)
			}
		})
	})
}
