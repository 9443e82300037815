package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestDispatchableCounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		now := clock.Now()
		future, past := now.Add(time.Minute), now.Add(-time.Minute)
		a := insertN(t, s, "alpha", 7)
		// a[0] is ready; a[1] paused; a[2] backs off into the future; a[3]
		// backed off until a minute ago; a[4] until exactly now; a[5] is
		// dispatching and a[6] completed.
		if _, err := s.SetJobPaused(ctx, a[1], true); err != nil {
			t.Fatal(err)
		}
		for id, at := range map[int64]time.Time{a[2]: future, a[3]: past, a[4]: now} {
			if _, err := s.SetDispatchAfter(ctx, id, &at); err != nil {
				t.Fatal(err)
			}
		}
		walk(t, s, a[5], core.StatusDispatching)
		walk(t, s, a[6], core.StatusDispatching, core.StatusTriggered, core.StatusRunning, core.StatusCompleted)
		b := insertN(t, s, "beta", 3)
		if _, err := s.SetJobPaused(ctx, b[0], true); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			groups []string
			limit  int
			want   map[string]int
		}{
			{"paused, backing-off and active jobs are not counted", []string{"alpha"}, 50, map[string]int{"alpha": 3}},
			{"the limit caps the count", []string{"alpha"}, 2, map[string]int{"alpha": 2}},
			{"a limit of one is reached by the ready job alone", []string{"alpha"}, 1, map[string]int{"alpha": 1}},
			{"each group is counted on its own", []string{"alpha", "beta"}, 50, map[string]int{"alpha": 3, "beta": 2}},
			{"a group listed twice is counted once", []string{"beta", "beta"}, 50, map[string]int{"beta": 2}},
			{"an unknown group counts zero", []string{"gamma"}, 50, map[string]int{"gamma": 0}},
			{"an empty list gives an empty map", nil, 50, map[string]int{}},
			{"a zero limit counts zero", []string{"alpha"}, 0, map[string]int{"alpha": 0}},
			{"more groups than one statement counts are counted in batches", manyGroups(120, "alpha", "beta"), 50,
				withZeros(manyGroups(120, "alpha", "beta"), map[string]int{"alpha": 3, "beta": 2})},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.DispatchableCounts(ctx, c.groups, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				if !maps.Equal(got, c.want) {
					t.Fatalf("counts = %v, want %v", got, c.want)
				}
			})
		}
		t.Run("a backoff that has passed makes the job dispatchable", func(t *testing.T) {
			clock.Advance(2 * time.Minute)
			got, err := s.DispatchableCounts(ctx, []string{"alpha"}, 50)
			if err != nil {
				t.Fatal(err)
			}
			if got["alpha"] != 4 {
				t.Fatalf("alpha = %d after the backoff passed, want 4", got["alpha"])
			}
			// Uncapped, it must agree with QueueCounts' Dispatchable.
			all, err := s.QueueCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, qc := range all {
				if qc.GroupID == "alpha" && qc.Status == core.StatusPending && qc.Dispatchable != got["alpha"] {
					t.Fatalf("QueueCounts says %d dispatchable, DispatchableCounts %d", qc.Dispatchable, got["alpha"])
				}
			}
		})
		t.Run("a negative limit is refused", func(t *testing.T) {
			if _, err := s.DispatchableCounts(ctx, []string{"alpha"}, -1); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	})
}

// manyGroups lists n groups: the given ones among unknown ones.
func manyGroups(n int, known ...string) []string {
	out := make([]string, 0, n)
	for i := range n - len(known) {
		out = append(out, fmt.Sprintf("unknown-%03d", i))
		if i == 60 {
			out = append(out, known...) // in the second batch
		}
	}
	return out
}

// withZeros is counts with every other group of ids at zero.
func withZeros(ids []string, counts map[string]int) map[string]int {
	out := map[string]int{}
	for _, id := range ids {
		out[id] = counts[id]
	}
	return out
}
