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

// A listing requested before a webhook changed a runner must not undo that
// change: status is guarded by ListedAt exactly like busy.
func TestReplaceScopeRunnersGuardsStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const scope = "org:a"
	stale := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	ephemeral := func(status core.RunnerStatus) core.Runner {
		r := runner(1, "self-hosted")
		r.Ephemeral, r.Status = true, status
		return r
	}
	cases := []struct {
		name string
		// webhook runs after the first listing, as a delivery would.
		webhook     func(t *testing.T, s *store.Store)
		listing     store.ScopeListing
		wantStatus  core.RunnerStatus
		wantBusy    bool
		wantUpdated []int64
	}{
		{
			name: "stale listing keeps a retired ephemeral runner offline",
			webhook: func(t *testing.T, s *store.Store) {
				mustBusy(t, s, 1, 5)
				if retired, err := s.RetireEphemeralRunner(ctx, 1, 5); err != nil || !retired {
					t.Fatalf("retire: %v %v", retired, err)
				}
			},
			listing:    store.ScopeListing{Scope: scope, Runners: []core.Runner{ephemeral(core.RunnerOnline)}, ListedAt: stale},
			wantStatus: core.RunnerOffline,
		},
		{
			name: "listing taken after the retirement brings the runner back online",
			webhook: func(t *testing.T, s *store.Store) {
				mustBusy(t, s, 1, 5)
				if _, err := s.RetireEphemeralRunner(ctx, 1, 5); err != nil {
					t.Fatal(err)
				}
			},
			listing:     store.ScopeListing{Scope: scope, Runners: []core.Runner{ephemeral(core.RunnerOnline)}, ListedAt: time.Now().Add(time.Hour)},
			wantStatus:  core.RunnerOnline,
			wantUpdated: []int64{1},
		},
		{
			name:       "stale listing cannot take a runner a webhook saw working offline",
			webhook:    func(t *testing.T, s *store.Store) { mustBusy(t, s, 1, 6) },
			listing:    store.ScopeListing{Scope: scope, Runners: []core.Runner{ephemeral(core.RunnerOffline)}, ListedAt: stale},
			wantStatus: core.RunnerOnline,
			wantBusy:   true,
		},
		{
			name:        "listing without ListedAt always wins",
			webhook:     func(t *testing.T, s *store.Store) { mustBusy(t, s, 1, 6) },
			listing:     store.ScopeListing{Scope: scope, Runners: []core.Runner{ephemeral(core.RunnerOffline)}},
			wantStatus:  core.RunnerOffline,
			wantUpdated: []int64{1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: scope, Runners: []core.Runner{ephemeral(core.RunnerOnline)}})
				tc.webhook(t, s)
				ch := mustReplace(t, s, tc.listing)
				if !slices.Equal(ch.Updated, tc.wantUpdated) {
					t.Fatalf("updated = %v, want %v", ch.Updated, tc.wantUpdated)
				}
				got, err := s.GetRunner(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tc.wantStatus || got.Busy != tc.wantBusy {
					t.Fatalf("runner status=%s busy=%v, want status=%s busy=%v", got.Status, got.Busy, tc.wantStatus, tc.wantBusy)
				}
			})
		})
	}
}

// The changes carry the runners themselves, so callers can announce each
// one without reading them again: changed ones as stored, removed ones as
// last known.
func TestReplaceScopeRunnersReportsRunners(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const scope = "org:a"
		mustReplace(t, s, store.ScopeListing{Scope: scope, Runners: []core.Runner{runner(1, "x"), runner(2, "y")}})
		mustBusy(t, s, 2, 9)
		ch := mustReplace(t, s, store.ScopeListing{Scope: scope, Runners: []core.Runner{runner(1, "x", "z"), runner(3, "w")}})
		if !slices.Equal(ch.Added, []int64{3}) || !slices.Equal(ch.Updated, []int64{1}) || !slices.Equal(ch.Removed, []int64{2}) {
			t.Fatalf("changes = %+v", ch)
		}
		if len(ch.Changed) != 2 || ch.Changed[0].ID != 1 || !slices.Equal(ch.Changed[0].Labels, []string{"x", "z"}) ||
			ch.Changed[1].ID != 3 || ch.Changed[1].Scope != scope {
			t.Fatalf("changed runners = %+v, want 1 with labels [x z] and 3 in %s", ch.Changed, scope)
		}
		if len(ch.Vanished) != 1 || ch.Vanished[0].ID != 2 || !ch.Vanished[0].Busy || ch.Vanished[0].CurrentJobID != 9 {
			t.Fatalf("vanished runners = %+v, want runner 2 as last stored (busy with 9)", ch.Vanished)
		}
		again := mustReplace(t, s, store.ScopeListing{Scope: scope, Runners: []core.Runner{runner(1, "x", "z"), runner(3, "w")}})
		if !again.Empty() || len(again.Changed) != 0 || len(again.Vanished) != 0 {
			t.Fatalf("unchanged listing reported %+v", again)
		}
	})
}

func mustBusy(t *testing.T, s *store.Store, runnerID, githubJobID int64) {
	t.Helper()
	if ok, err := s.MarkRunnerBusy(context.Background(), runnerID, githubJobID); err != nil || !ok {
		t.Fatalf("mark runner %d busy with %d: %v %v", runnerID, githubJobID, ok, err)
	}
}
