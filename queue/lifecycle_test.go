package queue_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestFinishMapsEveryConclusion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		for _, c := range []struct {
			conclusion string
			want       core.JobStatus
		}{
			{"success", core.StatusCompleted},
			{"neutral", core.StatusCompleted},
			{"skipped", core.StatusCompleted},
			{"failure", core.StatusFailed},
			{"timed_out", core.StatusFailed},
			{"startup_failure", core.StatusFailed},
			{"action_required", core.StatusFailed},
			{"stale", core.StatusFailed},
			{"cancelled", core.StatusCancelled},
			{"some_conclusion_github_adds_later", core.StatusFailed},
		} {
			t.Run(c.conclusion, func(t *testing.T) {
				j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
				out, err := f.svc.Finish(context.Background(), j.ID, c.conclusion, "runner-9")
				if err != nil {
					t.Fatal(err)
				}
				if out.Job.Status != c.want || out.Job.Conclusion != c.conclusion || out.Job.RunnerName != "runner-9" || out.Job.CompletedAt == nil {
					t.Fatalf("finished job: status %s conclusion %q runner %q", out.Job.Status, out.Job.Conclusion, out.Job.RunnerName)
				}
				if out.Requeued != nil {
					t.Fatal("a job without auto-requeue was requeued")
				}
			})
		}
	})
}

func TestFinishTwiceIsATransitionErrorAndChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		j := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusRunning)
		if _, err := f.svc.Finish(context.Background(), j.ID, "success", ""); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Finish(context.Background(), j.ID, "failure", "")
		if !errors.Is(err, core.ErrTransition) {
			t.Fatalf("second finish: %v, want ErrTransition", err)
		}
		if got, _ := s.GetJob(context.Background(), j.ID); got.Conclusion != "success" {
			t.Fatalf("second finish changed the job to %q", got.Conclusion)
		}
		if n := len(f.pending(t, "alpha")); n != 1 {
			t.Fatalf("%d requeued copies, want 1 (the duplicate finish must not requeue)", n)
		}
		if _, err := f.svc.Finish(context.Background(), j.ID, "", ""); !errors.As(err, new(*queue.ValidationError)) {
			t.Fatalf("finish without conclusion: %v", err)
		}
	})
}

func TestFinishRequeuesUpToTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		j := f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true, RequeueLimit: 2, Inputs: map[string]string{"net": "sepolia"}, CreatedBy: "alice"})
		var chain []int64
		for round, conclusion := range []string{"success", "failure", "cancelled"} {
			other := f.enqueue(t, queue.EnqueueRequest{}) // the copy must go below this one
			f.run(t, j.ID, core.StatusRunning)
			f.events.take()
			out, err := f.svc.Finish(ctx, j.ID, conclusion, "")
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, j.ID)
			if round == 2 {
				if out.Requeued != nil {
					t.Fatalf("requeued past the limit: copy %+v", *out.Requeued)
				}
				break
			}
			cp := out.Requeued
			if cp == nil {
				t.Fatalf("round %d (%s): no requeue", round, conclusion)
			}
			if cp.RequeueCount != round+1 || cp.RequeueLimit != 2 || !cp.AutoRequeue || cp.Status != core.StatusPending ||
				cp.Inputs["net"] != "sepolia" || cp.CreatedBy != "alice" || cp.TemplateID != "a1" || cp.RunID != 0 ||
				!reflect.DeepEqual(cp.Labels, tmplA.Labels) {
				t.Fatalf("round %d copy: %+v", round, *cp)
			}
			if q := f.pending(t, "alpha"); q[len(q)-1] != cp.ID || !containsID(q, other.ID) {
				t.Fatalf("copy %d not at the bottom of %v", cp.ID, q)
			}
			want := []string{fmt.Sprintf("job %d %s", j.ID, out.Job.Status), fmt.Sprintf("new %d pending", cp.ID), "queue alpha"}
			if got := f.events.take(); !reflect.DeepEqual(got, want) {
				t.Fatalf("events = %v, want %v", got, want)
			}
			// Clear the way so the copy is the next one run.
			if err := f.svc.DeletePending(ctx, other.ID); err != nil {
				t.Fatal(err)
			}
			j = *cp
		}
		if len(chain) != 3 {
			t.Fatalf("chain %v", chain)
		}
	})
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestAJobThatFailedWithoutARunIsNeverRequeued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		// A 404 on dispatch: the dispatcher fails the job with the reason.
		j := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusDispatching)
		out, err := f.svc.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching, To: core.StatusFailed,
			AttemptID: j.AttemptID, Error: "404 workflow not found"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Requeued != nil || out.Job.Error != "404 workflow not found" {
			t.Fatalf("failed-without-run outcome: %+v", out)
		}
		// Same through Finish: a conclusion for a job that never had a run.
		k := f.run(t, f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true}).ID, core.StatusDispatching)
		if out, err := f.svc.Finish(ctx, k.ID, "failure", ""); err != nil || out.Requeued != nil {
			t.Fatalf("finish failure without run: requeued=%v err=%v", out.Requeued, err)
		}
		if q := f.pending(t, "alpha"); len(q) != 0 {
			t.Fatalf("queue has %v, want nothing requeued", q)
		}
	})
}

func TestRequeueSkipsADisabledGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		j := f.run(t, f.enqueue(t, queue.EnqueueRequest{GroupID: "beta", TemplateID: "b1", AutoRequeue: true}).ID, core.StatusRunning)
		if _, err := s.SyncConfig(ctx, []core.Group{groupA}, []core.Template{tmplA}); err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.Finish(ctx, j.ID, "success", "")
		if err != nil || out.Requeued != nil {
			t.Fatalf("finish in disabled group: requeued=%v err=%v", out.Requeued, err)
		}
	})
}

func TestCancelByStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, c := range []struct {
			name        string
			status      core.JobStatus
			wantStatus  core.JobStatus
			wantCalls   int
			wantFlagged bool
		}{
			{"pending is withdrawn at once and not requeued", core.StatusPending, core.StatusCancelled, 0, false},
			{"dispatching is flagged for the dispatcher", core.StatusDispatching, core.StatusDispatching, 0, true},
			{"triggered is cancelled on GitHub once and waits for confirmation", core.StatusTriggered, core.StatusTriggered, 1, true},
			{"running is cancelled on GitHub once and waits for confirmation", core.StatusRunning, core.StatusRunning, 1, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := newFixture(t, s)
				j := f.enqueue(t, queue.EnqueueRequest{AutoRequeue: true})
				if c.status != core.StatusPending {
					j = f.run(t, j.ID, c.status)
				}
				f.events.take()
				got, err := f.svc.Cancel(ctx, j.ID, "alice")
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != c.wantStatus || got.CancelRequested != c.wantFlagged {
					t.Fatalf("after cancel: status %s cancel_requested %v", got.Status, got.CancelRequested)
				}
				if len(f.gh.calls) != c.wantCalls {
					t.Fatalf("GitHub cancel calls %v, want %d", f.gh.calls, c.wantCalls)
				}
				if c.wantCalls == 1 && f.gh.calls[0] != fmt.Sprintf("o/r#%d", j.RunID) {
					t.Fatalf("cancelled %s, want run %d of o/r", f.gh.calls[0], j.RunID)
				}
				if ev := f.events.take(); len(ev) == 0 || ev[0] != fmt.Sprintf("job %d %s", j.ID, c.wantStatus) {
					t.Fatalf("events = %v", ev)
				}
				if c.status == core.StatusPending {
					if q := f.pending(t, "alpha"); len(q) != 0 {
						t.Fatalf("withdrawn job was requeued: %v", q)
					}
					return
				}
				if c.wantCalls == 0 {
					return
				}
				// GitHub confirms: only now is the job cancelled, and it requeues.
				out, err := f.svc.Finish(ctx, j.ID, "cancelled", "")
				if err != nil || out.Job.Status != core.StatusCancelled || out.Requeued == nil {
					t.Fatalf("confirmation: %+v %v", out, err)
				}
				if len(f.gh.calls) != 1 {
					t.Fatalf("GitHub cancel calls after confirmation: %v", f.gh.calls)
				}
			})
		}
	})
}

func TestCancelRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		done := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
		if _, err := f.svc.Finish(ctx, done.ID, "success", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Cancel(ctx, done.ID, "alice"); !errors.Is(err, core.ErrTransition) {
			t.Fatalf("cancel finished job: %v, want ErrTransition", err)
		}
		if _, err := f.svc.Cancel(ctx, 123456, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cancel unknown job: %v, want ErrNotFound", err)
		}
		live := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusRunning)
		f.gh.err = errors.New("github: 500")
		if _, err := f.svc.Cancel(ctx, live.ID, "alice"); err == nil || !errors.Is(err, f.gh.err) {
			t.Fatalf("cancel with GitHub failing: %v", err)
		}
		if got, _ := s.GetJob(ctx, live.ID); got.CancelRequested {
			t.Fatal("a cancel GitHub refused was recorded as requested")
		}
	})
}

func TestClaimEmitsAndSkipsPausedGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		a := f.enqueue(t, queue.EnqueueRequest{})
		b := f.enqueue(t, queue.EnqueueRequest{})
		if _, err := f.svc.PauseGroup(ctx, "alpha"); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.Claim(ctx, "alpha", 5); err != nil || len(got) != 0 {
			t.Fatalf("claim from paused group: %v %v", got, err)
		}
		if _, err := f.svc.UnpauseGroup(ctx, "alpha"); err != nil {
			t.Fatal(err)
		}
		f.events.take()
		got, err := f.svc.Claim(ctx, "alpha", 5)
		if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID || got[0].AttemptID == got[1].AttemptID {
			t.Fatalf("claim = %+v, %v", got, err)
		}
		want := []string{fmt.Sprintf("job %d dispatching", a.ID), fmt.Sprintf("job %d dispatching", b.ID), "queue alpha"}
		if ev := f.events.take(); !reflect.DeepEqual(ev, want) {
			t.Fatalf("events = %v, want %v", ev, want)
		}
	})
}

func TestACancelWhileDispatchingSurvivesATransientDispatchError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		j := f.run(t, f.enqueue(t, queue.EnqueueRequest{}).ID, core.StatusDispatching)
		if _, err := f.svc.Cancel(ctx, j.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		// The dispatcher's POST got a 502 and hands the job back.
		out, err := f.svc.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching, To: core.StatusPending,
			AttemptID: j.AttemptID, Error: "502 Bad Gateway"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Job.Status != core.StatusCancelled {
			t.Fatalf("job went back to %s, want cancelled: the user's cancel was forgotten", out.Job.Status)
		}
		if got, _ := f.svc.Claim(ctx, "alpha", 5); len(got) != 0 {
			t.Fatalf("the cancelled job was claimed again: %+v", got)
		}
	})
}

func TestFinishRefusesAJobThatWasNeverDispatched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		j := f.enqueue(t, queue.EnqueueRequest{})
		if _, err := f.svc.Finish(context.Background(), j.ID, "failure", ""); !errors.Is(err, core.ErrTransition) {
			t.Fatalf("finish of a pending job: %v, want ErrTransition", err)
		}
	})
}
