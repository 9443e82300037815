package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// The dispatcher's lean reads must agree with the full ones they replace.
func TestLeanSnapshotReadsAgreeWithFullReads(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		var ids []int64
		for range 5 { // pending, dispatching, triggered, running, completed
			ids = append(ids, insert(t, s, manualJob(groupA.ID), store.Placement{}).ID)
		}
		step := func(id int64, req store.TransitionRequest) {
			t.Helper()
			clock.Advance(time.Minute)
			req.JobID = id
			if _, err := s.Transition(ctx, req); err != nil {
				t.Fatalf("job %d %s -> %s: %v", id, req.From, req.To, err)
			}
		}
		for i, id := range ids[1:] {
			att := "att-" + string(rune('a'+i))
			step(id, store.TransitionRequest{From: core.StatusPending, To: core.StatusDispatching, NewAttemptID: att})
			if i == 0 {
				continue
			}
			step(id, store.TransitionRequest{From: core.StatusDispatching, To: core.StatusTriggered, AttemptID: att, RunID: int64(100 + i)})
			if i == 1 {
				continue
			}
			step(id, store.TransitionRequest{From: core.StatusTriggered, To: core.StatusRunning, RunnerName: "r"})
			if i == 3 {
				step(id, store.TransitionRequest{From: core.StatusRunning, To: core.StatusCompleted, Conclusion: "success"})
			}
		}

		// The triggered job's run asks for labels its group lacks.
		if err := s.InTx(ctx, func(q *store.Q) error {
			return q.SetJobLabelMismatch(ctx, ids[2], "runs-on asks for gpu; no runner of group a has it")
		}); err != nil {
			t.Fatal(err)
		}

		full, err := s.ListJobsByStatus(ctx, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
		if err != nil {
			t.Fatal(err)
		}
		lean, err := s.ActiveJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(lean) != 3 || len(full) != len(lean) {
			t.Fatalf("active jobs: lean %d, full %d, want 3", len(lean), len(full))
		}
		for i, j := range full {
			l := lean[i]
			if l.ID != j.ID || l.GroupID != j.GroupID || l.Status != j.Status || l.RunID != j.RunID ||
				(l.TriggeredAt == nil) != (j.TriggeredAt == nil) || (l.TriggeredAt != nil && !l.TriggeredAt.Equal(*j.TriggeredAt)) ||
				l.LabelMismatch != (j.LabelMismatch != "") {
				t.Fatalf("active job %d: lean %+v, full %+v", i, l, j)
			}
		}

		if flagged := slices.IndexFunc(lean, func(l store.ActiveJob) bool { return l.LabelMismatch }); flagged < 0 || lean[flagged].ID != ids[2] {
			t.Fatalf("label mismatch of job %d not in the lean read: %+v", ids[2], lean)
		}

		mustReplace(t, s, store.ScopeListing{Scope: "org:acme", Runners: []core.Runner{
			{ID: 1, Name: "a", Status: core.RunnerOnline, Labels: []string{"self-hosted", "x"}},
			{ID: 2, Name: "b", Status: core.RunnerOnline, Busy: true, Labels: []string{"self-hosted", "x"}},
			{ID: 3, Name: "c", Status: core.RunnerOffline, Labels: []string{"self-hosted", "y"}},
			{ID: 4, Name: "d", Status: core.RunnerOnline, Labels: []string{"self-hosted", "GPU"}},
		}})
		if _, err := s.MarkRunnerBusy(ctx, 4, 777); err != nil {
			t.Fatal(err)
		}
		online, err := s.OnlineRunners(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(online, func(a, b core.Runner) int { return int(a.ID - b.ID) })
		all, err := s.ListRunners(ctx, store.RunnerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var want []core.Runner
		for _, r := range all {
			if r.Status == core.RunnerOnline {
				want = append(want, r.Runner)
			}
		}
		slices.SortFunc(want, func(a, b core.Runner) int { return int(a.ID - b.ID) })
		if len(online) != 3 || len(online) != len(want) {
			t.Fatalf("online runners %+v, want the 3 online of %+v", online, all)
		}
		for i := range want {
			g, w := online[i], want[i]
			if g.ID != w.ID || g.Status != w.Status || g.Busy != w.Busy || g.CurrentJobID != w.CurrentJobID || !slices.Equal(g.Labels, w.Labels) {
				t.Fatalf("online runner %d: %+v, want %+v", i, g, w)
			}
		}
		if online[2].CurrentJobID != 777 || !online[1].Busy || online[0].Busy {
			t.Fatalf("busy state lost: %+v", online)
		}
		on, busy, err := s.RunnerCounts(ctx)
		if err != nil || on != 3 || busy != 2 {
			t.Fatalf("runner counts = %d online, %d busy, %v; want 3, 2", on, busy, err)
		}
	})
}

func TestRunnerCountsOfAnEmptyFleet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		on, busy, err := s.RunnerCounts(context.Background())
		if err != nil || on != 0 || busy != 0 {
			t.Fatalf("runner counts = %d, %d, %v; want 0, 0", on, busy, err)
		}
	})
}
