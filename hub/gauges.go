package hub

import (
	"context"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// Store is what the hub reads. *store.Store satisfies it.
type Store interface {
	RunnerCounts(ctx context.Context) (online, busy int, err error)
	QueueCounts(ctx context.Context) ([]store.QueueCount, error)
	GetGroup(ctx context.Context, id string) (core.Group, error)
}

var _ Store = (*store.Store)(nil)

const (
	defaultRefreshSpacing = 500 * time.Millisecond
	refreshTimeout        = 5 * time.Second
)

// coalescer runs refresh for any number of requests, one run at a time and
// at most one per spacing. A request while a run is in flight or pausing
// leaves exactly one more run behind it, so the last change is always
// covered: a run starts reading after taking its wake-up, and a change
// announced after that point wakes it again. An isolated request runs at
// once. The gauges it feeds read whole tables (every runner, every live
// job); one read per webhook would compete with the dispatcher for
// SQLite's single connection when thousands of runners change together.
type coalescer struct {
	wake    chan struct{}
	spacing time.Duration
	refresh func(ctx context.Context)
}

func newCoalescer(spacing time.Duration, refresh func(ctx context.Context)) *coalescer {
	return &coalescer{wake: make(chan struct{}, 1), spacing: spacing, refresh: refresh}
}

// request never blocks: a pending wake-up already covers this change.
func (c *coalescer) request() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *coalescer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		c.refresh(ctx)
		pause := time.NewTimer(c.spacing)
		select {
		case <-ctx.Done():
			pause.Stop()
			return
		case <-pause.C:
		}
	}
}

// dirtySet holds the groups whose queue changed since the last refresh.
type dirtySet struct {
	mu     sync.Mutex
	groups map[string]struct{}
}

func (d *dirtySet) add(groups ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.groups == nil {
		d.groups = map[string]struct{}{}
	}
	for _, g := range groups {
		d.groups[g] = struct{}{}
	}
}

func (d *dirtySet) take() map[string]struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.groups
	d.groups = nil
	return out
}

// startRefreshers runs the coalesced refreshers until Close.
func (h *Hub) startRefreshers(spacing time.Duration) {
	if spacing <= 0 {
		spacing = defaultRefreshSpacing
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancelRefresh = cancel
	h.runnerGauges = newCoalescer(spacing, h.refreshRunners)
	h.queues = newCoalescer(spacing, h.refreshQueues)
	h.refreshers.Go(func() { h.runnerGauges.run(ctx) })
	h.refreshers.Go(func() { h.queues.run(ctx) })
}

func (h *Hub) refreshRunners(ctx context.Context) {
	if h.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	online, busy, err := h.store.RunnerCounts(ctx)
	if err != nil {
		h.log.Warn().Err(err).Msg("runner gauges")
		return
	}
	h.metrics.Runners(online, busy, online-busy)
}

// refreshQueues reads the counts of every group once for all the groups
// that changed since the last read, sets their queue-size gauges and sends
// each one's queue_update. The messages go through the event queue, so a
// client still sees a job's job_state before the queue_update it caused.
func (h *Hub) refreshQueues(ctx context.Context) {
	dirty := h.dirtyGroups.take()
	if len(dirty) == 0 {
		return
	}
	counts := map[string]map[core.JobStatus]int{}
	if h.store != nil {
		rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
		all, err := h.store.QueueCounts(rctx)
		cancel()
		if err != nil {
			// Zeros would be a lie; the next change retries these groups.
			h.log.Warn().Err(err).Int("groups", len(dirty)).Msg("queue counts for queue_update")
			for g := range dirty {
				h.dirtyGroups.add(g)
			}
			return
		}
		for _, c := range all {
			if counts[c.GroupID] == nil {
				counts[c.GroupID] = map[core.JobStatus]int{}
			}
			counts[c.GroupID][c.Status] = c.Count
		}
	}
	for g := range dirty {
		gc := counts[g]
		if gc == nil {
			gc = map[core.JobStatus]int{}
		}
		for _, st := range core.AllStatuses {
			if !st.Terminal() {
				h.metrics.QueueSize(g, string(st), gc[st])
			}
		}
		h.enqueue(func(context.Context) {
			h.broadcast(wsMessage{Type: MsgQueueUpdate, GroupID: g, Data: map[string]any{"group_id": g, "counts": gc}})
		})
	}
}

// RefreshGauges sets the queue and runner gauges from the database, at once
// (at start, before anything serves).
func (h *Hub) RefreshGauges(ctx context.Context) {
	if h.store == nil {
		return
	}
	h.refreshRunners(ctx)
	counts, err := h.store.QueueCounts(ctx)
	if err != nil {
		h.log.Warn().Err(err).Msg("queue gauges")
		return
	}
	for _, c := range counts {
		h.metrics.QueueSize(c.GroupID, string(c.Status), c.Count)
	}
}
