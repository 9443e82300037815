package hub

import "github.com/ethpandaops/dispatchoor/core"

// maxRan bounds the hub's memory of measured run times: a terminal job is
// announced again only soon after it ended, if at all.
const maxRan = 4096

// observeRun records started → completed once per job that ran. The replica
// that records the end counts it, as for every job counter, so Prometheus
// summing over replicas sees each job once. Runs on the event goroutine.
func (h *Hub) observeRun(j core.Job) {
	if j.StartedAt == nil || j.CompletedAt == nil {
		return
	}
	if _, seen := h.ran[j.ID]; seen {
		return
	}
	if len(h.ran) >= maxRan {
		clear(h.ran)
	}
	h.ran[j.ID] = struct{}{}
	h.metrics.JobRun(j.CompletedAt.Sub(*j.StartedAt))
}
