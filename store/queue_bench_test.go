package store_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

const benchQueueLen = 100_000

// seedBigQueue writes n pending jobs into group "alpha" with multi-row
// INSERTs in one transaction, in the shape the dispatcher dreads: the front
// 30% paused, the next 30% backing off into the future, 5% whose backoff
// has passed, the rest ready. It returns the ids in queue order.
func seedBigQueue(tb testing.TB, s *store.Store, n int) []int64 {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.SyncConfig(ctx, []core.Group{groupA, groupB}, nil); err != nil {
		tb.Fatalf("seed groups: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	const batch = 500
	tx, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	row := "(?, 'job', 'o', 'r', 'w.yml', 'main', '{}', 'pending', ?, ?, 'api', ?, ?, ?)"
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		args := make([]any, 0, 6*(end-start))
		for i := start; i < end; i++ {
			var after any
			switch {
			case i >= n*3/10 && i < n*6/10:
				after = future
			case i >= n*6/10 && i < n*65/100:
				after = past
			}
			args = append(args, "alpha", i < n*3/10, float64(i+1)*1024, after, now, now)
		}
		q := `INSERT INTO jobs (group_id, name, owner, repo, workflow_id, ref, inputs, status,
			paused, position, source, dispatch_after, created_at, updated_at) VALUES ` +
			row + strings.Repeat(", "+row, end-start-1)
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			tb.Fatalf("seed jobs %d-%d: %v", start, end, err)
		}
	}
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, "SELECT id FROM jobs WHERE group_id = 'alpha' ORDER BY position, id"); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	// Fresh planner statistics, as a long-running database would have.
	if _, err := s.DB().ExecContext(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// BenchmarkQueue100k measures the queue operations on a group with 100,000
// pending jobs, on SQLite (a WAL file, as the server runs it) and on
// PostgreSQL. Run with a fixed count, e.g.
// go test -run '^$' -bench Queue100k -benchtime 200x ./store/
func BenchmarkQueue100k(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			ids := seedBigQueue(b, s, benchQueueLen)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, 2))
			pick := func() int64 { return ids[rng.IntN(len(ids))] }
			for _, c := range []struct {
				name string
				op   func() error
			}{
				{"InsertJob/top", func() error {
					_, err := s.InsertJob(ctx, manualJob("alpha"), store.Placement{Where: store.Top})
					return err
				}},
				{"InsertJob/bottom", func() error {
					_, err := s.InsertJob(ctx, manualJob("alpha"), store.Placement{Where: store.Bottom})
					return err
				}},
				{"InsertJob/before", func() error {
					_, err := s.InsertJob(ctx, manualJob("alpha"), store.Placement{Where: store.Before, Before: pick()})
					return err
				}},
				{"MoveJob/random", func() error {
					before := pick()
					_, err := s.MoveJob(ctx, pick(), &before)
					return err
				}},
				{"MoveJob/same-gap", func() error {
					before := ids[len(ids)/2]
					_, err := s.MoveJob(ctx, pick(), &before)
					return err
				}},
				{"ListQueue/first-page", func() error {
					_, err := s.ListQueue(ctx, store.QueueQuery{GroupID: "alpha"})
					return err
				}},
				{"DispatchableCounts/limit-50", func() error {
					_, err := s.DispatchableCounts(ctx, []string{"alpha", "beta"}, 50)
					return err
				}},
				{"QueueCounts", func() error {
					_, err := s.QueueCounts(ctx)
					return err
				}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						if err := c.op(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
