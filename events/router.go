package events

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/notify"
)

// Dashboard shows changes to people: the WebSocket hub. BroadcastJob is a
// job another replica changed, re-read from the database (its creation or
// change was already counted there).
type Dashboard interface {
	JobCreated(j core.Job)
	JobChanged(j core.Job)
	BroadcastJob(j core.Job)
	QueueChanged(groupID string)
	GroupChanged(groupID string)
	RunnerChanged(r core.Runner)
}

// JobListener hears every job change, local or from another replica: the
// slash-command service edits its replies from these.
type JobListener interface {
	JobChanged(j core.Job)
}

// Waker is the dispatcher: a pass as soon as possible, or a re-listing of
// one runner scope after delay.
type Waker interface {
	Wake(reason string)
	ScheduleScope(scope string, delay time.Duration)
}

// JobReader re-reads a job another replica announced.
type JobReader interface {
	GetJob(ctx context.Context, id int64) (core.Job, error)
}

// Metrics counts the events dropped because the cross-replica queue was
// full; kind is a notify Kind* constant.
type Metrics interface {
	ReplicaEventDropped(kind string)
}

// Options configure a Router. Bus and Jobs are required.
type Options struct {
	// Bus carries events to and from the other replicas.
	Bus notify.Bus
	// Jobs re-reads the jobs other replicas announce.
	Jobs   JobReader
	Logger zerolog.Logger
	// Metrics is optional.
	Metrics Metrics
	// QueueSize bounds the events waiting to be published to other
	// replicas; default 1024.
	QueueSize int
	// PublishTimeout bounds one publish; default 2s.
	PublishTimeout time.Duration
	// RemoteTimeout bounds the re-read behind a remote job event;
	// default 5s.
	RemoteTimeout time.Duration
	// DrainTimeout bounds how long Close keeps publishing what is queued;
	// default 5s.
	DrainTimeout time.Duration
}

// Router fans events out to this replica's listeners and, through a bounded
// queue, to the other replicas. Safe for concurrent use.
type Router struct {
	bus     notify.Bus
	jobs    JobReader
	log     zerolog.Logger
	dropLog zerolog.Logger
	metrics Metrics
	opts    Options

	subMu      sync.RWMutex
	dashboards []Dashboard
	listeners  []JobListener
	wakers     []Waker

	// outMu guards out against a send after Close closed it.
	outMu       sync.RWMutex
	out         chan notify.Event
	closed      bool
	dropped     atomic.Int64
	drainCtx    context.Context
	stopDrain   context.CancelFunc
	done        chan struct{}
	unsubscribe func()
	closeOnce   sync.Once
}

// New builds a Router, starts its publishing goroutine and subscribes it to
// the bus; Close stops both.
func New(opts Options) (*Router, error) {
	switch {
	case opts.Bus == nil:
		return nil, errors.New("events: a bus is required")
	case opts.Jobs == nil:
		return nil, errors.New("events: a job reader is required")
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = 2 * time.Second
	}
	if opts.RemoteTimeout <= 0 {
		opts.RemoteTimeout = 5 * time.Second
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 5 * time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	log := opts.Logger.With().Str("component", "events").Logger()
	r := &Router{
		bus: opts.Bus, jobs: opts.Jobs, log: log, metrics: opts.Metrics, opts: opts,
		// A full queue drops every event until the bus catches up; one
		// warning per period says so without flooding the log.
		dropLog: log.Sample(&zerolog.BurstSampler{Burst: 1, Period: 10 * time.Second}),
		out:     make(chan notify.Event, opts.QueueSize),
		done:    make(chan struct{}),
	}
	r.drainCtx, r.stopDrain = context.WithCancel(context.Background())
	go r.drain()
	r.unsubscribe = opts.Bus.Subscribe(r.remote)
	return r, nil
}

// SubscribeDashboard adds a dashboard (the WebSocket hub).
func (r *Router) SubscribeDashboard(d Dashboard) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	r.dashboards = append(r.dashboards, d)
}

// SubscribeJobs adds a job listener (the slash-command service).
func (r *Router) SubscribeJobs(l JobListener) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	r.listeners = append(r.listeners, l)
}

// SubscribeWaker adds a dispatcher.
func (r *Router) SubscribeWaker(w Waker) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	r.wakers = append(r.wakers, w)
}

// subscribers returns the current listeners. The slices are only ever
// appended to under the lock, so the copies of their headers stay valid.
func (r *Router) subscribers() ([]Dashboard, []JobListener, []Waker) {
	r.subMu.RLock()
	defer r.subMu.RUnlock()
	return r.dashboards, r.listeners, r.wakers
}

// Close stops taking events from the bus, publishes what is still queued
// (for at most DrainTimeout) and stops the publishing goroutine. Events
// published after Close reach local listeners only.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		r.unsubscribe()
		r.outMu.Lock()
		r.closed = true
		close(r.out)
		r.outMu.Unlock()
		timer := time.AfterFunc(r.opts.DrainTimeout, r.stopDrain)
		<-r.done
		timer.Stop()
		r.stopDrain()
	})
	return nil
}

// Dropped is how many events were not published to other replicas because
// the queue was full.
func (r *Router) Dropped() int64 { return r.dropped.Load() }

type nopMetrics struct{}

func (nopMetrics) ReplicaEventDropped(string) {}
