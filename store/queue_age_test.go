package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestOldestPending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		t0 := clock.Now()
		seed(t, s)
		groups := []string{groupA.ID, groupB.ID}
		got, err := s.OldestPending(ctx, groups)
		if err != nil || len(got) != 0 {
			t.Fatalf("empty queues: %v %v", got, err)
		}
		first := insert(t, s, manualJob(groupA.ID), store.Placement{})
		clock.Advance(time.Minute)
		insert(t, s, manualJob(groupA.ID), store.Placement{})
		got, err = s.OldestPending(ctx, groups)
		if err != nil {
			t.Fatal(err)
		}
		if !got[groupA.ID].Equal(t0) {
			t.Fatalf("oldest of %s = %v, want %v", groupA.ID, got[groupA.ID], t0)
		}
		if at, ok := got[groupB.ID]; ok {
			t.Fatalf("%s has no pending job but got %v", groupB.ID, at)
		}
		t.Run("a paused job does not count", func(t *testing.T) {
			if _, err := s.SetJobPaused(ctx, first.ID, true); err != nil {
				t.Fatal(err)
			}
			got, err := s.OldestPending(ctx, groups)
			if err != nil || !got[groupA.ID].Equal(t0.Add(time.Minute)) {
				t.Fatalf("oldest after pausing the first: %v %v", got, err)
			}
		})
	})
}
