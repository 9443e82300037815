package core

import (
	"slices"
	"sort"
	"strings"
)

// GroupLoad is what the capacity calculation needs to know about one group.
type GroupLoad struct {
	Group Group
	// Pending counts jobs that could be dispatched now (pending, not paused,
	// not backing off).
	Pending int
	// InFlight counts our jobs dispatched but not yet started
	// (dispatching or triggered). Each will need a runner of the group.
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
// jobs queued inside GitHub, then our own dispatched-but-not-started jobs.
// What remains is shared among groups with pending work, one runner at a time
// round-robin, bounded by each group's pending count and max_concurrent. A
// runner is promised at most once across all groups. Where several runners
// fit, the one that fewer groups could use is taken first, keeping versatile
// runners for the groups that need them.
//
// The result has one entry per input group, in input order.
func Capacity(in CapacityInput) []Allocation {
	pool := newRunnerPool(in.Runners, in.Groups)

	type need struct {
		labels []string
		count  int
	}
	var needs []need
	for _, q := range in.Queued {
		needs = append(needs, need{labels: q.Labels, count: 1})
	}
	for _, g := range in.Groups {
		if g.InFlight > 0 {
			needs = append(needs, need{labels: g.Group.RunnerLabels, count: g.InFlight})
		}
	}
	// Most constrained demand first, so a narrow demand is not starved by a
	// broad one that took its only runner.
	sort.SliceStable(needs, func(i, j int) bool {
		return pool.matching(needs[i].labels) < pool.matching(needs[j].labels)
	})
	for _, n := range needs {
		for range n.count {
			if _, ok := pool.take(n.labels); !ok {
				break
			}
		}
	}

	out := make([]Allocation, len(in.Groups))
	limit := make([]int, len(in.Groups))
	for i, g := range in.Groups {
		out[i].GroupID = g.Group.ID
		if !g.Group.Enabled || g.Group.Paused || g.Pending <= 0 {
			continue
		}
		limit[i] = g.Pending
		if mc := g.Group.MaxConcurrent; mc > 0 {
			limit[i] = min(limit[i], mc-g.InFlight-g.Running)
		}
		limit[i] = max(limit[i], 0)
	}
	for progress := true; progress; {
		progress = false
		for i, g := range in.Groups {
			if out[i].Slots >= limit[i] {
				continue
			}
			id, ok := pool.take(g.Group.RunnerLabels)
			if !ok {
				limit[i] = out[i].Slots // nothing left for this group
				continue
			}
			out[i].Slots++
			out[i].Runners = append(out[i].Runners, id)
			progress = true
		}
	}
	return out
}

// runnerPool holds idle runners bucketed by identical label sets, so that
// taking a runner costs O(buckets), not O(runners), with fleets of thousands.
type runnerPool struct {
	buckets []*runnerBucket
}

type runnerBucket struct {
	labels  []string
	ids     []int64
	breadth int // how many groups could use a runner of this bucket
}

func newRunnerPool(runners []Runner, groups []GroupLoad) *runnerPool {
	byKey := map[string]*runnerBucket{}
	p := &runnerPool{}
	for _, r := range runners {
		if !r.Idle() {
			continue
		}
		labels := NormalizeLabels(r.Labels)
		sorted := slices.Clone(labels)
		slices.Sort(sorted)
		key := strings.Join(sorted, "\x00")
		b := byKey[key]
		if b == nil {
			b = &runnerBucket{labels: labels}
			for _, g := range groups {
				if HasLabels(labels, g.Group.RunnerLabels) {
					b.breadth++
				}
			}
			byKey[key] = b
			p.buckets = append(p.buckets, b)
		}
		b.ids = append(b.ids, r.ID)
	}
	// Deterministic choice: narrowest bucket first, then by label key.
	sort.SliceStable(p.buckets, func(i, j int) bool {
		if p.buckets[i].breadth != p.buckets[j].breadth {
			return p.buckets[i].breadth < p.buckets[j].breadth
		}
		return strings.Join(p.buckets[i].labels, ",") < strings.Join(p.buckets[j].labels, ",")
	})
	return p
}

// matching counts idle runners that carry every label of want.
func (p *runnerPool) matching(want []string) int {
	n := 0
	for _, b := range p.buckets {
		if HasLabels(b.labels, want) {
			n += len(b.ids)
		}
	}
	return n
}

// take removes and returns an idle runner that carries every label of want.
func (p *runnerPool) take(want []string) (int64, bool) {
	for _, b := range p.buckets {
		if len(b.ids) == 0 || !HasLabels(b.labels, want) {
			continue
		}
		id := b.ids[0]
		b.ids = b.ids[1:]
		return id, true
	}
	return 0, false
}
