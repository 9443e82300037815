package core

import (
	"cmp"
	"slices"
)

// GroupLoad is what the capacity calculation needs to know about one group.
type GroupLoad struct {
	Group Group
	// Pending counts jobs that could be dispatched now (pending, not paused,
	// not backing off).
	Pending int
	// InFlight counts our jobs dispatched but not yet started
	// (dispatching or triggered). Each will need a runner of the group; a
	// run flagged for a label mismatch will not, and is left out (its
	// queued GitHub jobs come as QueuedDemand instead).
	InFlight int
	// Running counts our jobs that hold a runner now.
	Running int
}

// QueuedDemand is a job waiting inside GitHub for a runner with these labels.
// The caller passes only jobs that are not runs of our own in-flight jobs, so
// nothing is subtracted twice.
type QueuedDemand struct {
	Labels []string
}

// CapacityInput is a consistent snapshot of the world.
type CapacityInput struct {
	Groups  []GroupLoad
	Runners []Runner
	Queued  []QueuedDemand
}

// Allocation says how many jobs a group may dispatch now and which idle
// runners those dispatches are counting on.
type Allocation struct {
	GroupID string
	Slots   int
	Runners []int64
}

// Capacity decides how many jobs each group may dispatch in this pass.
//
// Idle online runners are first set aside for demand that already exists:
// jobs queued inside GitHub and our own dispatched-but-not-started jobs, the
// most constrained demand (fewest runners able to take it) first so a narrow
// demand is not starved by a broad one that took its only runner. What
// remains is shared among groups with pending work, one runner per group per
// round (round-robin; within a round the most constrained group picks first:
// fewest runners left for it, then most labels), bounded by each group's
// pending count and max_concurrent headroom. A runner is promised at most
// once across all groups, even when the input lists it twice. Where several
// runners fit, one that fewer dispatchable groups could use is taken first,
// keeping versatile runners for the groups that need them.
//
// A group without runner labels gets no slots: it would match every runner
// of the fleet, which is a configuration mistake, never an intent.
//
// The result has one entry per input group, in input order. The cost is
// about O(runners + label sets × buckets + slots × groups), where buckets are
// the distinct label sets among idle runners.
func Capacity(in CapacityInput) []Allocation {
	out := make([]Allocation, len(in.Groups))
	limit := make([]int, len(in.Groups))
	for i, g := range in.Groups {
		out[i].GroupID = g.Group.ID
		if !g.Group.Enabled || g.Group.Paused || g.Pending <= 0 || len(g.Group.RunnerLabels) == 0 {
			continue
		}
		limit[i] = g.Pending
		if mc := g.Group.MaxConcurrent; mc > 0 {
			limit[i] = min(limit[i], mc-g.InFlight-g.Running)
		}
		limit[i] = max(limit[i], 0)
	}

	pool := newRunnerPool(in.Runners)
	groupCur := make([]*cursor, len(in.Groups))
	for i, g := range in.Groups {
		if len(g.Group.RunnerLabels) == 0 {
			continue
		}
		groupCur[i] = pool.cursor(g.Group.RunnerLabels)
		if limit[i] > 0 {
			for _, b := range groupCur[i].buckets {
				b.breadth++
			}
		}
	}
	pool.rank()

	// Existing demand, grouped by label set so a thousand queued jobs with
	// the same runs-on cost one lookup.
	type need struct {
		cur   *cursor
		count int
		order int
	}
	needs := map[*cursor]*need{}
	addNeed := func(c *cursor, n int) {
		if nd := needs[c]; nd != nil {
			nd.count += n
			return
		}
		needs[c] = &need{cur: c, count: n, order: len(needs)}
	}
	for _, q := range in.Queued {
		addNeed(pool.cursor(q.Labels), 1)
	}
	for i, g := range in.Groups {
		if g.InFlight > 0 && groupCur[i] != nil {
			addNeed(groupCur[i], g.InFlight)
		}
	}
	ordered := make([]*need, 0, len(needs))
	for _, nd := range needs {
		ordered = append(ordered, nd)
	}
	slices.SortFunc(ordered, func(a, b *need) int {
		return cmp.Or(cmp.Compare(a.cur.initial, b.cur.initial), cmp.Compare(a.order, b.order))
	})
	for _, nd := range ordered {
		for range nd.count {
			if _, ok := nd.cur.take(); !ok {
				break
			}
		}
	}

	// Within a round the most constrained group picks first; ties keep the
	// input order. Counted after existing demand took its share.
	order := make([]int, 0, len(in.Groups))
	avail := make([]int, len(in.Groups))
	for i := range in.Groups {
		if limit[i] > 0 {
			order = append(order, i)
			avail[i] = groupCur[i].available()
		}
	}
	// On a tie the group asking for more labels goes first: it is the
	// narrower one, and the broader group can use runners that free up later.
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(avail[a], avail[b]),
			cmp.Compare(len(in.Groups[b].Group.RunnerLabels), len(in.Groups[a].Group.RunnerLabels)))
	})
	for len(order) > 0 {
		kept := order[:0]
		for _, i := range order {
			id, ok := groupCur[i].take()
			if !ok {
				continue // nothing left this group can use
			}
			out[i].Slots++
			out[i].Runners = append(out[i].Runners, id)
			if out[i].Slots < limit[i] {
				kept = append(kept, i)
			}
		}
		order = kept
	}
	return out
}
