package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// failUpdatesOf makes the database itself refuse any UPDATE of job id (a
// trigger raising an error), the way a constraint, a lost connection or a
// disk error would fail a statement half-way through a bulk request.
func failUpdatesOf(t *testing.T, s *store.Store, id int64) {
	t.Helper()
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER bulk_fail BEFORE UPDATE ON jobs WHEN OLD.id = %d
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`, id)}
	drop := "DROP TRIGGER bulk_fail"
	if s.Driver() == store.DriverPostgres {
		stmts = []string{
			`CREATE FUNCTION bulk_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
			fmt.Sprintf(`CREATE TRIGGER bulk_fail BEFORE UPDATE ON jobs FOR EACH ROW WHEN (OLD.id = %d) EXECUTE FUNCTION bulk_fail()`, id),
		}
		drop = "DROP TRIGGER bulk_fail ON jobs"
	}
	for _, q := range stmts {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatalf("install failing trigger: %v", err)
		}
	}
	t.Cleanup(func() { _, _ = s.DB().Exec(drop) })
}

// probeCanceller runs onCall before recording a cancel.
type probeCanceller struct {
	*canceller
	onCall func()
}

func (p *probeCanceller) CancelRun(ctx context.Context, owner, repo string, runID int64) error {
	p.onCall()
	return p.canceller.CancelRun(ctx, owner, repo, runID)
}

func resultOf(t *testing.T, res []queue.BulkResult, id int64) queue.BulkResult {
	t.Helper()
	for _, r := range res {
		if r.JobID == id {
			return r
		}
	}
	t.Fatalf("no result for job %d in %+v", id, res)
	return queue.BulkResult{}
}

func TestBulkMixedIDs(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		t.Run("pause applies to pending jobs; the others get their own error", func(t *testing.T) {
			a, b := f.enqueue(t, queue.EnqueueRequest{}), f.enqueue(t, queue.EnqueueRequest{})
			running := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			f.events.take()
			ids := []int64{b.ID, 999999, running.ID, a.ID}
			res, err := f.svc.Bulk(ctx, queue.BulkRequest{Action: queue.BulkPause, JobIDs: ids, Actor: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			var order []int64
			for _, r := range res {
				order = append(order, r.JobID)
			}
			if !slices.Equal(order, ids) {
				t.Fatalf("results in order %v, want the request's %v", order, ids)
			}
			for _, id := range []int64{a.ID, b.ID} {
				r := resultOf(t, res, id)
				if r.Err != nil || r.Job == nil || !r.Job.Paused {
					t.Fatalf("job %d: %+v, want paused", id, r)
				}
				if got, _ := s.GetJob(ctx, id); !got.Paused {
					t.Fatalf("job %d is not paused in the store", id)
				}
			}
			if r := resultOf(t, res, 999999); !errors.Is(r.Err, store.ErrNotFound) || r.Job != nil {
				t.Fatalf("unknown job: %+v, want ErrNotFound", r)
			}
			if r := resultOf(t, res, running.ID); !errors.Is(r.Err, core.ErrTransition) {
				t.Fatalf("running job: %+v, want ErrTransition", r)
			}
			want := []string{fmt.Sprintf("job %d pending", b.ID), fmt.Sprintf("job %d pending", a.ID), "queue alpha"}
			if got := f.events.take(); !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v (each job once in request order, the queue once)", got, want)
			}
		})
		t.Run("cancel by status: GitHub told only about live runs, after the commit", func(t *testing.T) {
			pending := f.enqueue(t, queue.EnqueueRequest{})
			running := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			dispatching := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusDispatching)
			done := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			if _, err := f.svc.Finish(ctx, done.ID, "success", ""); err != nil {
				t.Fatal(err)
			}
			f.events.take()
			f.gh.calls = nil
			// The canceller looks at the job from outside the transaction:
			// it must already see the cancel committed. (On SQLite, a call
			// inside the transaction would time out on the single pooled
			// connection instead.)
			var seen []bool
			probe := &probeCanceller{canceller: f.gh, onCall: func() {
				c, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				j, err := s.GetJob(c, running.ID)
				seen = append(seen, err == nil && j.CancelRequested)
			}}
			svc, err := queue.New(queue.Options{Store: s, Events: f.events, Canceller: probe})
			if err != nil {
				t.Fatal(err)
			}
			res, err := svc.Bulk(ctx, queue.BulkRequest{Action: queue.BulkCancel, JobIDs: []int64{pending.ID, running.ID, dispatching.ID, done.ID}, Actor: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			if r := resultOf(t, res, pending.ID); r.Err != nil || r.Job.Status != core.StatusCancelled {
				t.Fatalf("pending: %+v, want withdrawn", r)
			}
			if r := resultOf(t, res, running.ID); r.Err != nil || r.CancelErr != nil || !r.Job.CancelRequested || r.Job.Status != core.StatusRunning {
				t.Fatalf("running: %+v, want cancel requested and still running", r)
			}
			if r := resultOf(t, res, dispatching.ID); r.Err != nil || !r.Job.CancelRequested {
				t.Fatalf("dispatching: %+v, want cancel requested", r)
			}
			if r := resultOf(t, res, done.ID); !errors.Is(r.Err, core.ErrTransition) {
				t.Fatalf("finished: %+v, want ErrTransition", r)
			}
			if want := []string{fmt.Sprintf("o/r#%d", running.RunID)}; !slices.Equal(f.gh.calls, want) {
				t.Fatalf("GitHub cancels %v, want only the running job's run %v", f.gh.calls, want)
			}
			if !slices.Equal(seen, []bool{true}) {
				t.Fatalf("the GitHub cancel was sent before the cancel was committed (seen %v)", seen)
			}
		})
		t.Run("a GitHub cancel failure is a warning: the recorded cancel stays", func(t *testing.T) {
			running := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			f.gh.err = errors.New("github: 502")
			t.Cleanup(func() { f.gh.err = nil })
			res, err := f.svc.Bulk(ctx, queue.BulkRequest{Action: queue.BulkCancel, JobIDs: []int64{running.ID}})
			if err != nil {
				t.Fatal(err)
			}
			if r := res[0]; r.Err != nil || r.CancelErr == nil {
				t.Fatalf("result %+v, want applied with a CancelErr", r)
			}
			if got, _ := s.GetJob(ctx, running.ID); !got.CancelRequested {
				t.Fatal("cancel_requested was not kept, so the reconciler would never retry the cancel")
			}
		})
		t.Run("delete removes pending jobs and refuses dispatched ones", func(t *testing.T) {
			pending := f.enqueue(t, queue.EnqueueRequest{})
			running := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
			f.events.take()
			res, err := f.svc.Bulk(ctx, queue.BulkRequest{Action: queue.BulkDelete, JobIDs: []int64{pending.ID, running.ID}})
			if err != nil {
				t.Fatal(err)
			}
			if r := resultOf(t, res, pending.ID); r.Err != nil || r.Job != nil {
				t.Fatalf("pending: %+v, want deleted without a job", r)
			}
			if _, err := s.GetJob(ctx, pending.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("deleted job still readable: %v", err)
			}
			if r := resultOf(t, res, running.ID); !errors.Is(r.Err, store.ErrConflict) {
				t.Fatalf("running: %+v, want ErrConflict", r)
			}
			if got := f.events.take(); !slices.Equal(got, []string{"queue alpha"}) {
				t.Fatalf("events %v, want only the queue change", got)
			}
		})
		t.Run("disable_requeue keeps the limit and refuses finished jobs", func(t *testing.T) {
			live := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true, RequeueLimit: 4}).ID, core.StatusRunning)
			done := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusRunning)
			if _, err := f.svc.Finish(ctx, done.ID, "failure", ""); err != nil {
				t.Fatal(err)
			}
			res, err := f.svc.Bulk(ctx, queue.BulkRequest{Action: queue.BulkDisableRequeue, JobIDs: []int64{live.ID, done.ID}})
			if err != nil {
				t.Fatal(err)
			}
			if r := resultOf(t, res, live.ID); r.Err != nil || r.Job.AutoRequeue || r.Job.RequeueLimit != 4 {
				t.Fatalf("live: %+v, want auto-requeue off with limit 4", r)
			}
			if r := resultOf(t, res, done.ID); !errors.Is(r.Err, core.ErrTransition) {
				t.Fatalf("finished: %+v, want ErrTransition", r)
			}
		})
	})
}

func TestBulkDatabaseFailureAppliesNone(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		running := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
		a, b, c := f.enqueue(t, queue.EnqueueRequest{}), f.enqueue(t, queue.EnqueueRequest{}), f.enqueue(t, queue.EnqueueRequest{})
		failUpdatesOf(t, s, b.ID)
		f.events.take()
		for _, action := range []queue.BulkAction{queue.BulkPause, queue.BulkCancel} {
			t.Run(string(action), func(t *testing.T) {
				res, err := f.svc.Bulk(ctx, queue.BulkRequest{Action: action, JobIDs: []int64{running.ID, a.ID, b.ID, c.ID}})
				if err == nil || res != nil {
					t.Fatalf("Bulk: %+v, %v; want an error and no results", res, err)
				}
				for _, id := range []int64{a.ID, b.ID, c.ID} {
					if got, _ := s.GetJob(ctx, id); got.Status != core.StatusPending || got.Paused {
						t.Fatalf("job %d is %s paused=%t after the rollback, want pending", id, got.Status, got.Paused)
					}
				}
				if got, _ := s.GetJob(ctx, running.ID); got.CancelRequested {
					t.Fatal("the running job's cancel survived the rollback")
				}
				if len(f.gh.calls) != 0 {
					t.Fatalf("GitHub was told to cancel %v for a rolled-back request", f.gh.calls)
				}
				if got := f.events.take(); len(got) != 0 {
					t.Fatalf("events %v announced for a rolled-back request", got)
				}
			})
		}
	})
}

func TestBulkRefusesBadRequestsBeforeTouchingAnything(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		j := f.enqueue(t, queue.EnqueueRequest{})
		tooMany := make([]int64, queue.MaxBulk+1)
		for i := range tooMany {
			tooMany[i] = int64(i + 1)
		}
		for _, tc := range []struct {
			name  string
			req   queue.BulkRequest
			field string
		}{
			{"unknown action", queue.BulkRequest{Action: "explode", JobIDs: []int64{j.ID}}, "action"},
			{"no jobs", queue.BulkRequest{Action: queue.BulkPause}, "job_ids"},
			{"too many jobs", queue.BulkRequest{Action: queue.BulkPause, JobIDs: tooMany}, "job_ids"},
			{"a job listed twice", queue.BulkRequest{Action: queue.BulkPause, JobIDs: []int64{j.ID, j.ID}}, "job_ids"},
			{"a non-positive id", queue.BulkRequest{Action: queue.BulkPause, JobIDs: []int64{j.ID, 0}}, "job_ids"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.Bulk(ctx, tc.req)
				var ve *queue.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err %v, want a ValidationError on %s", err, tc.field)
				}
				if got, _ := s.GetJob(ctx, j.ID); got.Paused {
					t.Fatal("a refused request changed a job")
				}
			})
		}
	})
}
