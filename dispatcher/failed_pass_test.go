package dispatcher

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// flakyStore fails the next n snapshot reads, as a database that is
// briefly unavailable would.
type flakyStore struct {
	Store
	fail atomic.Int32
}

func (f *flakyStore) ListGroups(ctx context.Context) ([]core.Group, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, errors.New("database briefly unavailable")
	}
	return f.Store.ListGroups(ctx)
}

// A pass that fails is tried again within a second, not at the next
// safety tick (an hour here): the wake-up that caused it is spent.
func TestFailedPassIsRetriedSoon(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), envOptions{runners: 1, jobDuration: time.Hour})
	flaky := &flakyStore{Store: e.store}
	flaky.fail.Store(3)
	d := e.dispatcher(func(o *Options) { o.Store = flaky })
	e.reconcileRunners(d)
	j := e.enqueue(tmplPlain)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	start := time.Now()
	e.waitFor("the job dispatched after three failed passes", 5*time.Second, func() bool {
		return e.job(j.ID).Status != core.StatusPending
	})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("dispatched %s after the first failed pass, want within a couple of seconds", took)
	}
	if got := e.job(j.ID).Status; got == core.StatusFailed {
		t.Fatalf("job %s", got)
	}
}
