package queue_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestMoveAndReorderEmitQueueChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		a, b, c := f.enqueue(t, queue.EnqueueRequest{}), f.enqueue(t, queue.EnqueueRequest{}), f.enqueue(t, queue.EnqueueRequest{})
		f.events.take()
		if _, err := f.svc.Move(ctx, c.ID, &a.ID); err != nil {
			t.Fatal(err)
		}
		if got, want := f.pending(t, "alpha"), []int64{c.ID, a.ID, b.ID}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after move %v, want %v", got, want)
		}
		if err := f.svc.Reorder(ctx, "alpha", []int64{b.ID, c.ID, a.ID}); err != nil {
			t.Fatal(err)
		}
		if got, want := f.pending(t, "alpha"), []int64{b.ID, c.ID, a.ID}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after reorder %v, want %v", got, want)
		}
		want := []string{fmt.Sprintf("job %d pending", c.ID), "queue alpha", "queue alpha"}
		if ev := f.events.take(); !reflect.DeepEqual(ev, want) {
			t.Fatalf("events = %v, want %v", ev, want)
		}
		if err := f.svc.Reorder(ctx, "alpha", []int64{b.ID, c.ID}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("reorder missing a job: %v, want ErrConflict", err)
		}
		if err := f.svc.Reorder(ctx, "alpha", nil); !errors.As(err, new(*queue.ValidationError)) {
			t.Fatalf("empty reorder: %v, want a validation error", err)
		}
		if ev := f.events.take(); len(ev) != 0 {
			t.Fatalf("refused reorders emitted %v", ev)
		}
	})
}

func TestPendingOnlyServiceOperationsRefuseDispatchedJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusTriggered)
		ref := "dev"
		f.events.take()
		for _, c := range []struct {
			name string
			err  error
			want error
		}{
			{"pause", second(f.svc.PauseJob(ctx, j.ID)), core.ErrTransition},
			{"unpause", second(f.svc.UnpauseJob(ctx, j.ID)), core.ErrTransition},
			{"update", second(f.svc.UpdatePending(ctx, queue.UpdateRequest{JobID: j.ID, Ref: &ref})), store.ErrConflict},
			{"delete", f.svc.DeletePending(ctx, j.ID), store.ErrConflict},
			{"move", second(f.svc.Move(ctx, j.ID, nil)), store.ErrConflict},
		} {
			t.Run(c.name+" of a triggered job", func(t *testing.T) {
				if !errors.Is(c.err, c.want) {
					t.Fatalf("err = %v, want %v", c.err, c.want)
				}
			})
		}
		if ev := f.events.take(); len(ev) != 0 {
			t.Fatalf("refused operations emitted %v", ev)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestPauseUpdateAndDeletePendingJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		j := f.enqueue(t, queue.EnqueueRequest{})
		f.events.take()
		if p, err := f.svc.PauseJob(ctx, j.ID); err != nil || !p.Paused {
			t.Fatalf("pause: %+v %v", p, err)
		}
		if got, err := f.svc.Claim(ctx, "alpha", 1); err != nil || len(got) != 0 {
			t.Fatalf("claimed a paused job: %v %v", got, err)
		}
		if p, err := f.svc.UnpauseJob(ctx, j.ID); err != nil || p.Paused {
			t.Fatalf("unpause: %+v %v", p, err)
		}
		ref, limit, auto := "v9", 5, true
		u, err := f.svc.UpdatePending(ctx, queue.UpdateRequest{JobID: j.ID, Ref: &ref, Inputs: map[string]string{"x": "y"}, AutoRequeue: &auto, RequeueLimit: &limit})
		if err != nil || u.Ref != "v9" || !reflect.DeepEqual(u.Inputs, map[string]string{"x": "y"}) || !u.AutoRequeue || u.RequeueLimit != 5 {
			t.Fatalf("update: %+v %v", u, err)
		}
		empty, neg := "", -2
		for name, r := range map[string]queue.UpdateRequest{
			"empty ref":      {JobID: j.ID, Ref: &empty},
			"negative limit": {JobID: j.ID, RequeueLimit: &neg},
			"empty input":    {JobID: j.ID, Inputs: map[string]string{"": "v"}},
		} {
			if _, err := f.svc.UpdatePending(ctx, r); !errors.As(err, new(*queue.ValidationError)) {
				t.Errorf("update with %s: %v, want a validation error", name, err)
			}
		}
		if err := f.svc.DeletePending(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("job %d pending", j.ID), "queue alpha", // pause
			fmt.Sprintf("job %d pending", j.ID), "queue alpha", // unpause
			fmt.Sprintf("job %d pending", j.ID), // update
			"queue alpha",                       // delete
		}
		if ev := f.events.take(); !reflect.DeepEqual(ev, want) {
			t.Fatalf("events = %v, want %v", ev, want)
		}
		if err := f.svc.DeletePending(ctx, j.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v, want ErrNotFound", err)
		}
	})
}

func TestPauseGroupEmitsOnlyWhenItChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		steps := []struct {
			pause bool
			want  bool
		}{{true, true}, {true, false}, {false, true}, {false, false}}
		for i, st := range steps {
			op := f.svc.UnpauseGroup
			if st.pause {
				op = f.svc.PauseGroup
			}
			if changed, err := op(ctx, "alpha"); err != nil || changed != st.want {
				t.Fatalf("step %d: changed=%v err=%v, want %v", i, changed, err, st.want)
			}
		}
		if ev := f.events.take(); !reflect.DeepEqual(ev, []string{"group alpha", "group alpha"}) {
			t.Fatalf("events = %v, want two group changes", ev)
		}
		if _, err := f.svc.PauseGroup(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("pause unknown group: %v", err)
		}
	})
}

func TestSetAutoRequeueBeforeCancelPreventsTheRequeue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		j := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusRunning)
		// What auto-requeue would decide if the job ended cancelled now.
		requeuedIfCancelled := func(j core.Job) bool {
			j.Status = core.StatusCancelled
			return core.ShouldRequeue(j)
		}
		if !requeuedIfCancelled(j) {
			t.Fatal("running auto-requeue job: a cancel would not requeue it")
		}
		off, err := f.svc.SetAutoRequeue(ctx, j.ID, false, 0)
		if err != nil || off.AutoRequeue || requeuedIfCancelled(off) {
			t.Fatalf("disable requeue: %+v %v", off, err)
		}
		if _, err := f.svc.Cancel(ctx, j.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.Finish(ctx, j.ID, "cancelled", "")
		if err != nil || out.Requeued != nil {
			t.Fatalf("finish after disabling requeue: %+v %v", out, err)
		}
		if _, err := f.svc.SetAutoRequeue(ctx, j.ID, true, -1); !errors.As(err, new(*queue.ValidationError)) {
			t.Fatalf("negative limit: %v", err)
		}
		if _, err := f.svc.SetAutoRequeue(ctx, j.ID, true, 1); !errors.Is(err, core.ErrTransition) {
			t.Fatalf("auto-requeue on a finished job: %v, want ErrTransition", err)
		}
	})
}

func TestHistoryStatsAndCleanupThroughTheService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		start := f.now
		old := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
		if _, err := f.svc.Finish(ctx, old.ID, "success", ""); err != nil {
			t.Fatal(err)
		}
		oldPending := f.enqueue(t, queue.EnqueueRequest{})
		f.now = f.now.Add(10 * 24 * time.Hour)
		recent := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
		if _, err := f.svc.Finish(ctx, recent.ID, "failure", ""); err != nil {
			t.Fatal(err)
		}
		page, err := f.svc.History(ctx, store.HistoryQuery{GroupID: "alpha", Labels: map[string]string{"el": "geth"}})
		if err != nil || len(page.Items) != 2 || page.Items[0].ID != recent.ID || page.Items[1].ID != old.ID {
			t.Fatalf("history: %+v %v", page, err)
		}
		stats, err := f.svc.HistoryStats(ctx, "alpha", start, 24*time.Hour)
		if err != nil || len(stats) != 11 || stats[0].Completed != 1 || stats[10].Failed != 1 {
			t.Fatalf("stats: %+v %v", stats, err)
		}
		if _, err := f.svc.History(ctx, store.HistoryQuery{GroupID: "alpha", Cursor: "!!"}); !errors.As(err, new(*queue.ValidationError)) {
			t.Fatalf("bad cursor: %v, want a validation error", err)
		}
		if _, err := f.svc.HistoryStats(ctx, "alpha", start, 0); !errors.As(err, new(*queue.ValidationError)) {
			t.Fatalf("zero bucket: %v, want a validation error", err)
		}
		if _, err := f.svc.History(ctx, store.HistoryQuery{GroupID: "nope"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("history of unknown group: %v", err)
		}
		if _, err := f.svc.Cleanup(ctx, 0); !errors.As(err, new(*queue.ValidationError)) {
			t.Fatalf("zero retention: %v", err)
		}
		n, err := f.svc.Cleanup(ctx, 7*24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("cleanup deleted %d (%v), want 1", n, err)
		}
		for id, kept := range map[int64]bool{old.ID: false, oldPending.ID: true, recent.ID: true} {
			if _, err := s.GetJob(ctx, id); (err == nil) != kept {
				t.Errorf("job %d: kept=%v want %v", id, err == nil, kept)
			}
		}
	})
}
