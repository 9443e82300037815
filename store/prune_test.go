package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// Every table that grows with webhooks or API use is bounded by Prune
// (docs/RELIABILITY.md, "Bounded tables").
func TestPruneBoundsTheTablesThatGrowWithTraffic(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		// Eight days ago: one of each kind.
		if err := s.RecordDelivery(ctx, "d-old", "ping", ""); err != nil {
			t.Fatal(err)
		}
		for id, st := range map[int64]store.GitHubJobStatus{1: store.GitHubJobQueued, 2: store.GitHubJobInProgress, 3: store.GitHubJobCompleted} {
			if _, err := s.ApplyGitHubJob(ctx, event(id, st)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "a", Action: "token_use"}); err != nil {
			t.Fatal(err)
		}
		// Two days ago: a completed job (past a day) and an unfinished one
		// (within GitHub's own limits), a delivery, an audit entry.
		clk.Advance(6 * 24 * time.Hour)
		if _, err := s.ApplyGitHubJob(ctx, event(4, store.GitHubJobCompleted)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyGitHubJob(ctx, event(5, store.GitHubJobQueued)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordDelivery(ctx, "d-recent", "ping", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "a", Action: "token_use"}); err != nil {
			t.Fatal(err)
		}
		// Now: a fresh completed job.
		clk.Advance(2 * 24 * time.Hour)
		if _, err := s.ApplyGitHubJob(ctx, event(6, store.GitHubJobCompleted)); err != nil {
			t.Fatal(err)
		}

		r := store.DefaultRetention
		r.Audit = 5 * 24 * time.Hour
		got, err := s.Prune(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.Pruned{Deliveries: 1, GitHubJobs: 4, Audit: 1}); got != want {
			t.Fatalf("pruned %+v, want %+v", got, want)
		}
		for id, kept := range map[int64]bool{1: false, 2: false, 3: false, 4: false, 5: true, 6: true} {
			_, err := s.GetGitHubJob(ctx, id)
			if (err == nil) != kept {
				t.Errorf("github job %d: kept=%v (err %v), want kept=%v", id, err == nil, err, kept)
			}
		}
		if again, err := s.Prune(ctx, r); err != nil || again != (store.Pruned{}) {
			t.Fatalf("second prune: %+v %v, want nothing left to prune", again, err)
		}
		entries, err := s.ListAudit(ctx, store.AuditQuery{})
		if err != nil || len(entries.Items) != 1 {
			t.Fatalf("audit after prune: %+v %v, want the recent entry only", entries, err)
		}
	})
}

func TestPruneWithZeroRetentionKeepsEverything(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if err := s.RecordDelivery(ctx, "d", "ping", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "a", Action: "x"}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(1000 * 24 * time.Hour)
		if got, err := s.Prune(ctx, store.Retention{}); err != nil || got != (store.Pruned{}) {
			t.Fatalf("pruned %+v %v with zero retention", got, err)
		}
	})
}
