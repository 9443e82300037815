package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestSetJobError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		for _, path := range [][]core.JobStatus{
			nil,
			{core.StatusDispatching},
			{core.StatusDispatching, core.StatusTriggered},
			{core.StatusDispatching, core.StatusTriggered, core.StatusRunning},
		} {
			j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, path...)
			t.Run("a "+string(j.Status)+" job shows the error and keeps its status", func(t *testing.T) {
				if err := s.SetJobError(ctx, j.ID, "run did not start within 30m0s"); err != nil {
					t.Fatal(err)
				}
				got, err := s.GetJob(ctx, j.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Error != "run did not start within 30m0s" || got.Status != j.Status {
					t.Fatalf("job status=%s error=%q, want %s with the error", got.Status, got.Error, j.Status)
				}
				if err := s.SetJobError(ctx, j.ID, ""); err != nil {
					t.Fatal(err)
				}
				if got, _ := s.GetJob(ctx, j.ID); got.Error != "" {
					t.Fatalf("error %q after clearing", got.Error)
				}
			})
		}
		t.Run("a finished job keeps the error it ended with", func(t *testing.T) {
			j := walk(t, s, insert(t, s, manualJob("alpha"), store.Placement{}).ID, core.StatusDispatching, core.StatusFailed)
			if err := s.SetJobError(ctx, j.ID, "late"); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
			if got, _ := s.GetJob(ctx, j.ID); got.Error == "late" {
				t.Fatal("a finished job's error was overwritten")
			}
		})
		t.Run("an unknown job is not found", func(t *testing.T) {
			if err := s.SetJobError(ctx, 987654, "x"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
	})
}
