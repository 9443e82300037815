package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// TestResumeOwnerJobsClearsOnlyThatOwnersBackOff: an installation appearing
// on an owner makes that owner's backing-off pending jobs claimable at once
// (owner compared case-insensitively), leaves other owners' jobs backing
// off, and a claim clears the reason the job waited for.
func TestResumeOwnerJobsClearsOnlyThatOwnersBackOff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		wait := func(owner string) core.Job {
			t.Helper()
			j := manualJob("alpha")
			j.Owner = owner
			j = walk(t, s, insert(t, s, j, store.Placement{}).ID, core.StatusDispatching)
			until := clock.Now().Add(5 * time.Minute)
			j, err := s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching,
				To: core.StatusPending, AttemptID: j.AttemptID, DispatchAfter: &until,
				Error: "waiting for the App's installation: not installed"})
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		acme, other := wait("Acme"), wait("other")
		ready := insert(t, s, manualJob("alpha"), store.Placement{}) // no back-off: nothing to resume

		got, err := s.ResumeOwnerJobs(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != acme.ID || got[0].DispatchAfter != nil {
			t.Fatalf("resumed %+v, want only job %d with its back-off cleared", got, acme.ID)
		}
		if j, _ := s.GetJob(ctx, other.ID); j.DispatchAfter == nil {
			t.Fatal("another owner's job lost its back-off")
		}
		n := 0
		claimed, err := s.ClaimNextPending(ctx, "alpha", 10, func() string { n++; return fmt.Sprintf("resume-%d", n) })
		if err != nil {
			t.Fatal(err)
		}
		ids := map[int64]core.Job{}
		for _, j := range claimed {
			ids[j.ID] = j
		}
		if _, ok := ids[other.ID]; ok || len(claimed) != 2 {
			t.Fatalf("claimed %v, want the resumed job and the ready one", claimed)
		}
		if j := ids[acme.ID]; j.Error != "" {
			t.Fatalf("claimed job still says %q: the waiting reason must be cleared by the claim", j.Error)
		}
		if _, ok := ids[ready.ID]; !ok {
			t.Fatalf("claimed %v, want job %d too", claimed, ready.ID)
		}
	})
}
