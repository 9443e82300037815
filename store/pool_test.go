package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// TestPostgresPoolKeepsABurstsConnections: after 16 deliveries ran at once
// (the ingest benchmark's senders), their connections stay open for the next
// burst instead of PostgreSQL forking a fresh backend per delivery.
func TestPostgresPoolKeepsABurstsConnections(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	const burst = 16
	var all, started sync.WaitGroup
	release := make(chan struct{})
	started.Add(burst)
	for range burst {
		all.Go(func() {
			// Each transaction holds its connection until all have begun.
			err := s.InTx(context.Background(), func(*store.Q) error {
				started.Done()
				<-release
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	started.Wait()
	close(release)
	all.Wait()
	if st := s.DB().Stats(); st.Idle < burst {
		t.Fatalf("%d idle connections after a burst of %d (open %d, closed for lack of idle slots %d), want all kept",
			st.Idle, burst, st.OpenConnections, st.MaxIdleClosed)
	}
}
