package store_test

import (
	"context"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestRetireEphemeralRunner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name        string
		ephemeral   bool
		busyWith    int64 // 0: idle
		finished    int64
		wantRetired bool
	}{
		{"ephemeral runner that finished its job goes offline", true, 5, 5, true},
		{"ephemeral runner whose in_progress was lost goes offline", true, 0, 5, true},
		{"ephemeral runner busy with another job is left alone", true, 6, 5, false},
		{"persistent runner is never retired", false, 5, 5, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				r := runner(1, "self-hosted")
				r.Ephemeral = c.ephemeral
				mustReplace(t, s, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{r}})
				if c.busyWith != 0 {
					if _, err := s.MarkRunnerBusy(ctx, 1, c.busyWith); err != nil {
						t.Fatal(err)
					}
				}
				retired, err := s.RetireEphemeralRunner(ctx, 1, c.finished)
				if err != nil || retired != c.wantRetired {
					t.Fatalf("retired=%v err=%v, want %v", retired, err, c.wantRetired)
				}
				got, err := s.GetRunner(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				if c.wantRetired {
					if got.Status != core.RunnerOffline || got.Busy || got.CurrentJobID != 0 {
						t.Fatalf("runner %+v, want offline and idle", got.Runner)
					}
					return
				}
				if got.Status != core.RunnerOnline || got.Busy != (c.busyWith != 0) {
					t.Fatalf("runner %+v changed", got.Runner)
				}
			})
		})
	}
	t.Run("unknown runner retires nothing", func(t *testing.T) {
		s := storetest.SQLite(t)
		if retired, err := s.RetireEphemeralRunner(ctx, 42, 1); err != nil || retired {
			t.Fatalf("retired=%v err=%v", retired, err)
		}
	})
}
