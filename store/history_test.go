package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// finished creates a job in group with labels and walks it to status at the
// clock's current time.
func finished(t *testing.T, s *store.Store, group string, status core.JobStatus, labels map[string]string) core.Job {
	t.Helper()
	j := manualJob(group)
	j.Labels = labels
	id := insert(t, s, j, store.Placement{}).ID
	if status == core.StatusCancelled {
		return walk(t, s, id, core.StatusCancelled)
	}
	return walk(t, s, id, core.StatusDispatching, core.StatusTriggered, core.StatusRunning, status)
}

func historyIDs(t *testing.T, s *store.Store, q store.HistoryQuery) []int64 {
	t.Helper()
	var ids []int64
	for range 1000 {
		page, err := s.History(context.Background(), q)
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		if len(page.Items) > q.Limit {
			t.Fatalf("page of %d items, limit %d", len(page.Items), q.Limit)
		}
		for _, j := range page.Items {
			ids = append(ids, j.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("history paging never ended")
	return nil
}

func TestHistoryPagingVisitsEveryTerminalJobOnceWithFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clock := newTestClock(s)
		seed(t, s)
		statuses := []core.JobStatus{core.StatusCompleted, core.StatusFailed, core.StatusCancelled}
		labelSets := []map[string]string{
			{"el": "geth", "cl": "lighthouse"}, {"el": "geth", "cl": "prysm"}, {"el": "reth"}, nil,
		}
		var all []core.Job
		for i := range 23 {
			// Every third job ends in the same instant as the one before, so
			// paging must break ties on id.
			if i%3 != 0 {
				clock.Advance(time.Second)
			}
			all = append(all, finished(t, s, "alpha", statuses[i%3], labelSets[i%4]))
		}
		finished(t, s, "beta", core.StatusCompleted, labelSets[0])
		insertN(t, s, "alpha", 2)
		walk(t, s, insertN(t, s, "alpha", 1)[0], core.StatusDispatching, core.StatusTriggered)

		expect := func(keep func(core.Job) bool) []int64 {
			var sel []core.Job
			for _, j := range all {
				if keep(j) {
					sel = append(sel, j)
				}
			}
			slices.SortFunc(sel, func(a, b core.Job) int {
				if c := b.CompletedAt.Compare(*a.CompletedAt); c != 0 {
					return c
				}
				return int(b.ID - a.ID)
			})
			var ids []int64
			for _, j := range sel {
				ids = append(ids, j.ID)
			}
			return ids
		}
		hasLabels := func(j core.Job, want map[string]string) bool {
			for k, v := range want {
				if j.Labels[k] != v {
					return false
				}
			}
			return true
		}
		for _, c := range []struct {
			name     string
			statuses []core.JobStatus
			labels   map[string]string
		}{
			{"no filter", nil, nil},
			{"one status", []core.JobStatus{core.StatusFailed}, nil},
			{"two statuses", []core.JobStatus{core.StatusCompleted, core.StatusCancelled}, nil},
			{"one label", nil, map[string]string{"el": "geth"}},
			{"two labels must both match", nil, map[string]string{"el": "geth", "cl": "prysm"}},
			{"status and label", []core.JobStatus{core.StatusCompleted}, map[string]string{"el": "geth"}},
			{"label nobody has", nil, map[string]string{"el": "besu"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				want := expect(func(j core.Job) bool {
					return (len(c.statuses) == 0 || slices.Contains(c.statuses, j.Status)) && hasLabels(j, c.labels)
				})
				got := historyIDs(t, s, store.HistoryQuery{GroupID: "alpha", Statuses: c.statuses, Labels: c.labels, Limit: 4})
				if !equalIDs(got, want) {
					t.Fatalf("history ids\n got %v\nwant %v", got, want)
				}
			})
		}
	})
}

func TestHistoryCursorIsStableWhenJobsFinishBetweenPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		var want []int64
		for range 6 {
			clock.Advance(time.Second)
			want = append([]int64{finished(t, s, "alpha", core.StatusCompleted, nil).ID}, want...)
		}
		page, err := s.History(ctx, store.HistoryQuery{GroupID: "alpha", Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		finished(t, s, "alpha", core.StatusFailed, nil) // newer than everything
		rest, err := s.History(ctx, store.HistoryQuery{GroupID: "alpha", Limit: 3, Cursor: page.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, j := range append(page.Items, rest.Items...) {
			got = append(got, j.ID)
		}
		if !equalIDs(got, want) || rest.NextCursor != "" {
			t.Fatalf("pages across an insert = %v (next %q), want %v", got, rest.NextCursor, want)
		}
	})
}

func TestHistoryRefusesBadQueries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		for name, q := range map[string]store.HistoryQuery{
			"a live status":          {GroupID: "alpha", Statuses: []core.JobStatus{core.StatusRunning}},
			"an unknown status":      {GroupID: "alpha", Statuses: []core.JobStatus{"exploded"}},
			"a cursor of junk":       {GroupID: "alpha", Cursor: "%%%"},
			"a queue cursor":         {GroupID: "alpha", Cursor: "cXwxfDEwMjR8Mw"},
			"a cursor with bad time": {GroupID: "alpha", Cursor: "aHx5ZXN0ZXJkYXl8Mw"},
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := s.History(context.Background(), q); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
			})
		}
	})
}

func TestHistoryStatsCountsPerBucket(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		t0 := clock.Now()
		at := func(d time.Duration, group string, st core.JobStatus) {
			clock.Advance(t0.Add(d).Sub(clock.Now()))
			finished(t, s, group, st, nil)
		}
		at(0, "alpha", core.StatusCompleted) // first instant of bucket 0
		at(10*time.Minute, "alpha", core.StatusCompleted)
		at(50*time.Minute, "alpha", core.StatusFailed)
		at(60*time.Minute, "alpha", core.StatusCancelled) // first instant of bucket 1
		at(70*time.Minute, "beta", core.StatusFailed)     // other group
		at(185*time.Minute, "alpha", core.StatusCompleted)
		at(210*time.Minute, "alpha", core.StatusFailed)
		clock.Advance(5 * time.Minute)

		got, err := s.HistoryStats(ctx, "alpha", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.StatsBucket{
			{Start: t0, Completed: 2, Failed: 1},
			{Start: t0.Add(time.Hour), Cancelled: 1},
			{Start: t0.Add(2 * time.Hour)},
			{Start: t0.Add(3 * time.Hour), Completed: 1, Failed: 1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stats\n got %+v\nwant %+v", got, want)
		}
		later, err := s.HistoryStats(ctx, "alpha", t0.Add(61*time.Minute), 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wantLater := []store.StatsBucket{
			{Start: t0.Add(61 * time.Minute)},
			{Start: t0.Add(181 * time.Minute), Completed: 1, Failed: 1},
		}
		if !reflect.DeepEqual(later, wantLater) {
			t.Fatalf("stats since 61m in 2h buckets\n got %+v\nwant %+v", later, wantLater)
		}
		for name, c := range map[string]struct {
			since  time.Time
			bucket time.Duration
		}{
			"zero bucket":      {t0, 0},
			"too many buckets": {t0.Add(-365 * 24 * time.Hour), time.Second},
			"since the future": {clock.Now().Add(time.Hour), time.Hour},
		} {
			if _, err := s.HistoryStats(ctx, "alpha", c.since, c.bucket); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
	})
}

func TestDeleteHistoryBeforeDeletesOnlyOldTerminalJobsAndTheirLabels(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		oldDone := finished(t, s, "alpha", core.StatusCompleted, map[string]string{"el": "geth"})
		oldFailed := finished(t, s, "beta", core.StatusFailed, nil)
		oldPending := insertN(t, s, "alpha", 1)[0]
		oldRunning := walk(t, s, insertN(t, s, "alpha", 1)[0], core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
		clock.Advance(48 * time.Hour)
		recent := finished(t, s, "alpha", core.StatusCancelled, map[string]string{"el": "geth"})

		n, err := s.DeleteHistoryBefore(ctx, clock.Now().Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("deleted %d jobs, want 2", n)
		}
		for id, wantKept := range map[int64]bool{oldDone.ID: false, oldFailed.ID: false, oldPending: true, oldRunning.ID: true, recent.ID: true} {
			_, err := s.GetJob(ctx, id)
			if kept := err == nil; kept != wantKept {
				t.Errorf("job %d kept=%v, want %v (err %v)", id, kept, wantKept, err)
			}
		}
		var labels int
		if err := s.DB().GetContext(ctx, &labels, s.DB().Rebind("SELECT COUNT(*) FROM job_labels WHERE job_id = ?"), oldDone.ID); err != nil {
			t.Fatal(err)
		}
		if labels != 0 {
			t.Fatalf("%d labels of a deleted job remain", labels)
		}
		if got := historyIDs(t, s, store.HistoryQuery{GroupID: "alpha", Labels: map[string]string{"el": "geth"}, Limit: 10}); !equalIDs(got, []int64{recent.ID}) {
			t.Fatalf("history after cleanup = %v, want only %d", got, recent.ID)
		}
	})
}
