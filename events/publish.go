package events

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/notify"
)

// scopeHint asks the leader to re-list a scope's runners.
type scopeHint struct {
	Scope string        `json:"scope"`
	Delay time.Duration `json:"delay"`
}

// JobCreated announces a job that entered a queue (enqueued, or an
// auto-requeue copy).
func (r *Router) JobCreated(j core.Job) {
	dashboards, _, _ := r.subscribers()
	for _, d := range dashboards {
		d.JobCreated(j)
	}
	r.wake("job created")
	r.publish(notify.Event{Kind: notify.KindJob, GroupID: j.GroupID, JobID: j.ID})
}

// JobChanged announces a job's new state, position or settings.
func (r *Router) JobChanged(j core.Job) {
	dashboards, listeners, _ := r.subscribers()
	for _, d := range dashboards {
		d.JobChanged(j)
	}
	for _, l := range listeners {
		l.JobChanged(j)
	}
	// Only a job that ended (its runner or promise is free) or is pending
	// (back from a failed dispatch, unpaused, re-queued) can free or use
	// capacity. Claims, triggers and starts only spend it: waking on those
	// made a pass after every step of every job, a third of the server's
	// CPU in the fleet profile, for nothing.
	if j.Status == core.StatusPending || j.Status.Terminal() {
		r.wake("job changed")
	}
	r.publish(notify.Event{Kind: notify.KindJob, GroupID: j.GroupID, JobID: j.ID})
}

// QueueChanged announces that the set or order of a group's live jobs
// changed; the dispatcher treats it as a wake-up.
func (r *Router) QueueChanged(groupID string) {
	dashboards, _, _ := r.subscribers()
	for _, d := range dashboards {
		d.QueueChanged(groupID)
	}
	r.wake("queue changed")
	r.publish(notify.Event{Kind: notify.KindQueue, GroupID: groupID})
}

// GroupChanged announces a group paused or unpaused.
func (r *Router) GroupChanged(groupID string) {
	dashboards, _, _ := r.subscribers()
	for _, d := range dashboards {
		d.GroupChanged(groupID)
	}
	r.wake("group changed")
	r.publish(notify.Event{Kind: notify.KindGroup, GroupID: groupID})
}

// RunnerChanged shows a runner's new state on every replica's dashboards.
func (r *Router) RunnerChanged(rn core.Runner) {
	dashboards, _, _ := r.subscribers()
	for _, d := range dashboards {
		d.RunnerChanged(rn)
	}
	payload, err := json.Marshal(rn)
	if err != nil {
		r.log.Warn().Err(err).Int64("runner", rn.ID).Msg("encode runner for other replicas")
		return
	}
	r.publish(notify.Event{Kind: notify.KindRunner, Payload: payload})
}

// Wake asks for a dispatch pass; the dispatcher runs on the leader, which
// may be another replica than the one that received the webhook.
func (r *Router) Wake(reason string) {
	r.wake(reason)
	r.publish(notify.Event{Kind: notify.KindWake})
}

// ScheduleScope asks whichever replica leads to re-list a scope's runners
// after delay.
func (r *Router) ScheduleScope(scope string, delay time.Duration) {
	_, _, wakers := r.subscribers()
	for _, w := range wakers {
		w.ScheduleScope(scope, delay)
	}
	payload, err := json.Marshal(scopeHint{Scope: scope, Delay: delay})
	if err != nil {
		return
	}
	r.publish(notify.Event{Kind: notify.KindWake, Payload: payload})
}

func (r *Router) wake(reason string) {
	_, _, wakers := r.subscribers()
	for _, w := range wakers {
		w.Wake(reason)
	}
}

// publish queues ev for the other replicas without ever blocking: a full
// queue drops it.
func (r *Router) publish(ev notify.Event) {
	r.outMu.RLock()
	defer r.outMu.RUnlock()
	if r.closed {
		return
	}
	select {
	case r.out <- ev:
	default:
		n := r.dropped.Add(1)
		r.metrics.ReplicaEventDropped(ev.Kind)
		r.dropLog.Warn().Str("kind", ev.Kind).Int64("dropped_total", n).Int("queue_size", cap(r.out)).
			Msg("cross-replica event queue full; event dropped (other replicas catch up from the database)")
	}
}

// drain publishes queued events one at a time until Close closed the
// queue and it is empty, or the drain deadline passed.
func (r *Router) drain() {
	defer close(r.done)
	for ev := range r.out {
		if r.drainCtx.Err() != nil {
			continue // closing and out of time: empty the queue unpublished
		}
		ctx, cancel := context.WithTimeout(r.drainCtx, r.opts.PublishTimeout)
		if err := r.bus.Publish(ctx, ev); err != nil && r.drainCtx.Err() == nil {
			r.log.Warn().Err(err).Str("kind", ev.Kind).Msg("publish event to other replicas")
		}
		cancel()
	}
}
