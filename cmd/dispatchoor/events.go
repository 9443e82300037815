package main

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/dispatcher"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/notify"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/server"
	"github.com/ethpandaops/dispatchoor/store"
)

// jobListener is what wants to hear about jobs besides the hub: the
// slash-command service edits its replies from these.
type jobListener interface {
	JobChanged(core.Job)
}

// events fans the queue's and the handlers' events out to everything that
// reacts to them on this replica (WebSocket hub, dispatcher wake-ups,
// slash-command replies) and to the other replicas through the bus. The
// dispatcher and slash service are built after the queue, hence the atomic
// setters.
type events struct {
	hub   *server.Hub
	bus   notify.Bus
	log   zerolog.Logger
	disp  atomic.Pointer[dispatcher.Dispatcher]
	slash atomic.Value // jobListener
}

var _ queue.Events = (*events)(nil)

func (e *events) setDispatcher(d *dispatcher.Dispatcher) { e.disp.Store(d) }
func (e *events) setSlash(l jobListener)                 { e.slash.Store(l) }

func (e *events) wake(reason string) {
	if d := e.disp.Load(); d != nil {
		d.Wake(reason)
	}
}

// Wake is the handlers' wake-up: the dispatcher runs on the leader, which
// may be another replica than the one that received the webhook.
func (e *events) Wake(reason string) {
	e.wake(reason)
	e.publish(notify.Event{Kind: notify.KindWake})
}

// scopeHint asks the leader to re-list a scope's runners.
type scopeHint struct {
	Scope string        `json:"scope"`
	Delay time.Duration `json:"delay"`
}

// ScheduleScope is the handlers' re-list request, passed to whichever
// replica leads.
func (e *events) ScheduleScope(scope string, delay time.Duration) {
	if d := e.disp.Load(); d != nil {
		d.ScheduleScope(scope, delay)
	}
	payload, _ := json.Marshal(scopeHint{Scope: scope, Delay: delay})
	e.publish(notify.Event{Kind: notify.KindWake, Payload: payload})
}

func (e *events) publish(ev notify.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.bus.Publish(ctx, ev); err != nil {
		e.log.Warn().Err(err).Str("kind", ev.Kind).Msg("publish event to other replicas")
	}
}

func (e *events) JobCreated(j core.Job) {
	e.hub.JobCreated(j)
	e.wake("job created")
	e.publish(notify.Event{Kind: notify.KindJob, GroupID: j.GroupID, JobID: j.ID})
}

func (e *events) JobChanged(j core.Job) {
	e.hub.JobChanged(j)
	if l, ok := e.slash.Load().(jobListener); ok && l != nil {
		l.JobChanged(j)
	}
	// Only a job that ended (its runner or promise is free) or is pending
	// (back from a failed dispatch, unpaused, re-queued) can free or use
	// capacity. Claims, triggers and starts only spend it: waking on those
	// made a pass after every step of every job, a third of the server's
	// CPU in the fleet profile, for nothing.
	if j.Status == core.StatusPending || j.Status.Terminal() {
		e.wake("job changed")
	}
	e.publish(notify.Event{Kind: notify.KindJob, GroupID: j.GroupID, JobID: j.ID})
}

func (e *events) QueueChanged(groupID string) {
	e.hub.QueueChanged(groupID)
	e.wake("queue changed")
	e.publish(notify.Event{Kind: notify.KindQueue, GroupID: groupID})
}

func (e *events) GroupChanged(groupID string) {
	e.hub.GroupChanged(groupID)
	e.wake("group changed")
	e.publish(notify.Event{Kind: notify.KindGroup, GroupID: groupID})
}

// RunnerChanged shows a runner's new state on every replica's dashboards.
func (e *events) RunnerChanged(r core.Runner) {
	e.hub.RunnerChanged(r)
	payload, err := json.Marshal(r)
	if err != nil {
		return
	}
	e.publish(notify.Event{Kind: notify.KindRunner, Payload: payload})
}

// remote applies another replica's event here: wake the dispatcher (if this
// replica leads, its pass runs) and refresh what this replica's dashboards
// show, re-reading the database for the truth.
func (e *events) remote(st *store.Store) func(notify.Event) {
	return func(ev notify.Event) {
		e.wake("replica event: " + ev.Kind)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		switch ev.Kind {
		case notify.KindJob:
			j, err := st.GetJob(ctx, ev.JobID)
			if err != nil {
				return
			}
			e.hub.BroadcastJob(j)
			if l, ok := e.slash.Load().(jobListener); ok && l != nil {
				l.JobChanged(j)
			}
		case notify.KindQueue:
			e.hub.QueueChanged(ev.GroupID)
		case notify.KindGroup:
			e.hub.GroupChanged(ev.GroupID)
		case notify.KindRunner:
			var r core.Runner
			if json.Unmarshal(ev.Payload, &r) == nil {
				e.hub.RunnerChanged(r)
			}
		case notify.KindWake:
			var h scopeHint
			if d := e.disp.Load(); d != nil && len(ev.Payload) > 0 && json.Unmarshal(ev.Payload, &h) == nil && h.Scope != "" {
				d.ScheduleScope(h.Scope, h.Delay)
			}
		case notify.KindResync, notify.KindSystem:
		}
	}
}

// dispatchStatus records what /status shows about the dispatcher, and passes
// the dispatcher's metrics on to Prometheus.
type dispatchStatus struct {
	*metrics.Metrics
	enabled   bool
	isLeader  func() bool
	lastCycle atomic.Pointer[time.Time]
}

var _ dispatcher.Metrics = (*dispatchStatus)(nil)

func (d *dispatchStatus) CycleDone(took time.Duration) {
	now := time.Now().UTC()
	d.lastCycle.Store(&now)
	d.Metrics.CycleDone(took)
}

func (d *dispatchStatus) DispatcherStatus() server.DispatcherStatus {
	s := server.DispatcherStatus{Enabled: d.enabled, LastCycle: d.lastCycle.Load()}
	if d.isLeader != nil {
		s.Leader = d.isLeader()
	}
	return s
}
