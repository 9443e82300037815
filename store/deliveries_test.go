package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestRecordDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("first delivery is recorded, the same id again is a duplicate", func(t *testing.T) {
			if err := s.RecordDelivery(ctx, "d-1", "workflow_job", "queued"); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordDelivery(ctx, "d-1", "workflow_job", "queued"); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("second record: %v, want ErrDuplicate", err)
			}
		})
		t.Run("a delivery whose transaction rolled back can be applied again", func(t *testing.T) {
			boom := errors.New("handler failed")
			err := s.InTx(ctx, func(q *store.Q) error {
				if err := q.RecordDelivery(ctx, "d-2", "workflow_run", "completed"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx: %v", err)
			}
			if err := s.RecordDelivery(ctx, "d-2", "workflow_run", "completed"); err != nil {
				t.Fatalf("redelivery after rollback: %v, want recorded", err)
			}
		})
		t.Run("bad ids are refused", func(t *testing.T) {
			for _, id := range []string{"", string(make([]byte, 201))} {
				if err := s.RecordDelivery(ctx, id, "ping", ""); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("id of %d bytes: %v, want a validation error", len(id), err)
				}
			}
			if err := s.RecordDelivery(ctx, "d-3", "", ""); !errors.Is(err, store.ErrInvalid) {
				t.Fatal("empty event accepted")
			}
		})
	})
}

// Two replicas (two pools on one database) receiving the same delivery at the
// same moment: exactly one insert may win.
func TestRecordDeliveryRaceBetweenReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := map[string]func(t *testing.T) (*store.Store, *store.Store){
		"postgres": func(t *testing.T) (*store.Store, *store.Store) {
			dsn := storetest.PostgresDSN(t)
			return openPostgres(t, dsn, true), openPostgres(t, dsn, false)
		},
		"sqlite": func(t *testing.T) (*store.Store, *store.Store) {
			path := filepath.Join(t.TempDir(), "shared.db")
			return openSQLite(t, path, true), openSQLite(t, path, false)
		},
	}
	for name, openBoth := range open {
		t.Run(name, func(t *testing.T) {
			a, b := openBoth(t)
			for round := range 20 {
				id := fmt.Sprintf("race-%d", round)
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					wins int
					errs []error
				)
				for i := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						h := a
						if i%2 == 1 {
							h = b
						}
						// Inside a transaction, as the webhook endpoint does.
						err := h.InTx(ctx, func(q *store.Q) error { return q.RecordDelivery(ctx, id, "workflow_job", "completed") })
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							wins++
						case !errors.Is(err, store.ErrDuplicate):
							errs = append(errs, err)
						}
					}()
				}
				wg.Wait()
				if len(errs) > 0 || wins != 1 {
					t.Fatalf("round %d: %d inserts won, errors %v; want exactly one winner and only duplicates", round, wins, errs)
				}
			}
		})
	}
}

func TestDeleteDeliveriesBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if err := s.RecordDelivery(ctx, "old", "ping", ""); err != nil {
			t.Fatal(err)
		}
		clk.Advance(48 * time.Hour)
		if err := s.RecordDelivery(ctx, "new", "ping", ""); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteDeliveriesBefore(ctx, clk.Now().Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d (err %v), want 1", n, err)
		}
		if err := s.RecordDelivery(ctx, "old", "ping", ""); err != nil {
			t.Fatalf("forgotten id: %v, want recordable again", err)
		}
		if err := s.RecordDelivery(ctx, "new", "ping", ""); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("recent id: %v, want still a duplicate", err)
		}
	})
}

func openSQLite(t *testing.T, path string, migrate bool) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite, SQLitePath: path, Migrate: migrate})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
