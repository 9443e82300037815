package events

import (
	"context"
	"encoding/json"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/notify"
)

// remote applies another replica's event here: wake the dispatcher (if this
// replica leads, its pass runs) and refresh what this replica's dashboards
// show, re-reading the database for the truth. It runs on the bus's
// delivery goroutine.
func (r *Router) remote(ev notify.Event) {
	dashboards, listeners, wakers := r.subscribers()
	r.wake("replica event: " + ev.Kind)
	switch ev.Kind {
	case notify.KindJob:
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.RemoteTimeout)
		defer cancel()
		j, err := r.jobs.GetJob(ctx, ev.JobID)
		if err != nil {
			r.log.Debug().Err(err).Int64("job", ev.JobID).Msg("re-read a job another replica changed")
			return
		}
		for _, d := range dashboards {
			d.BroadcastJob(j)
		}
		for _, l := range listeners {
			l.JobChanged(j)
		}
	case notify.KindQueue:
		for _, d := range dashboards {
			d.QueueChanged(ev.GroupID)
		}
	case notify.KindGroup:
		for _, d := range dashboards {
			d.GroupChanged(ev.GroupID)
		}
	case notify.KindRunner:
		var rn core.Runner
		if json.Unmarshal(ev.Payload, &rn) == nil {
			for _, d := range dashboards {
				d.RunnerChanged(rn)
			}
		}
	case notify.KindWake:
		var h scopeHint
		if len(ev.Payload) > 0 && json.Unmarshal(ev.Payload, &h) == nil && h.Scope != "" {
			for _, w := range wakers {
				w.ScheduleScope(h.Scope, h.Delay)
			}
		}
	case notify.KindResync, notify.KindSystem:
	}
}
