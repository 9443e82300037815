package core

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomWorld builds a fleet where label sets overlap, runners are listed
// twice now and then, and groups are paused, disabled or capped at random.
func randomWorld(r *rand.Rand, withDemand bool) CapacityInput {
	labelPool := []string{"sh", "SH", "linux", "x64", "arm64", "gpu", "big", "hoodi"}
	pick := func(n int) []string {
		var ls []string
		for range n {
			ls = append(ls, labelPool[r.IntN(len(labelPool))])
		}
		return ls
	}
	var in CapacityInput
	for i := range 1 + r.IntN(6) {
		g := grp(fmt.Sprintf("g%d", i), r.IntN(8), pick(1+r.IntN(3))...)
		g.Group.Paused = r.IntN(8) == 0
		g.Group.Enabled = r.IntN(10) != 0
		if r.IntN(3) == 0 {
			g.Group.MaxConcurrent = 1 + r.IntN(5)
			g.Running = r.IntN(4)
		}
		if withDemand {
			g.InFlight = r.IntN(3)
		}
		in.Groups = append(in.Groups, g)
	}
	for i := range r.IntN(30) {
		rn := Runner{ID: int64(1 + r.IntN(i+1)), Labels: pick(1 + r.IntN(5)), Status: RunnerOnline}
		if r.IntN(6) == 0 {
			rn.Status = RunnerOffline
		}
		rn.Busy = r.IntN(5) == 0
		in.Runners = append(in.Runners, rn)
	}
	if withDemand {
		for range r.IntN(10) {
			in.Queued = append(in.Queued, QueuedDemand{Labels: pick(1 + r.IntN(3))})
		}
	}
	return in
}

func TestCapacityInvariantsRandomWorlds(t *testing.T) {
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 0xd15))
		withDemand := seed%2 == 0
		in := randomWorld(r, withDemand)
		out := Capacity(in)
		ok := t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			checkInvariants(t, in, out, !withDemand)
		})
		if !ok {
			t.Fatalf("world: %+v\nallocation: %+v", in, out)
		}
	}
}

// BenchmarkCapacity runs a large fleet: 10,000 runners, 50 groups and 1,000
// jobs queued inside GitHub. "unique labels" gives every runner a label of
// its own (a name label, as some autoscalers add), the worst case for
// bucketing: it must stay linear-ish, not quadratic.
func BenchmarkCapacity(b *testing.B) {
	for _, unique := range []bool{false, true} {
		name := "shared label sets"
		if unique {
			name = "unique labels"
		}
		b.Run(name, func(b *testing.B) {
			in := bigWorld(unique)
			b.ReportAllocs()
			for b.Loop() {
				if out := Capacity(in); len(out) != len(in.Groups) {
					b.Fatal("wrong result size")
				}
			}
		})
	}
}

func bigWorld(unique bool) CapacityInput {
	r := rand.New(rand.NewPCG(1, 2))
	const groups, runners, demands = 50, 10_000, 1_000
	var in CapacityInput
	for i := range groups {
		g := grp(fmt.Sprintf("group-%d", i), 20, "self-hosted", fmt.Sprintf("pool-%d", i%25))
		if i%2 == 1 {
			g.Group.RunnerLabels = append(g.Group.RunnerLabels, "large")
		}
		g.Group.MaxConcurrent = 100
		g.InFlight = 3
		in.Groups = append(in.Groups, g)
	}
	for i := range runners {
		labels := []string{"self-hosted", "Linux", "X64", fmt.Sprintf("pool-%d", r.IntN(25))}
		if r.IntN(2) == 0 {
			labels = append(labels, "large")
		}
		if unique {
			labels = append(labels, fmt.Sprintf("runner-%d", i))
		}
		in.Runners = append(in.Runners, Runner{
			ID: int64(i + 1), Name: fmt.Sprintf("runner-%d", i), Labels: labels,
			Status: RunnerOnline, Busy: r.IntN(3) == 0,
		})
	}
	for range demands {
		in.Queued = append(in.Queued, QueuedDemand{Labels: []string{"self-hosted", fmt.Sprintf("pool-%d", r.IntN(25))}})
	}
	return in
}

func TestCapacityBigFleetInvariants(t *testing.T) {
	for _, unique := range []bool{false, true} {
		in := bigWorld(unique)
		out := Capacity(in)
		total := 0
		for _, a := range out {
			total += a.Slots
		}
		// 50 groups × 20 pending, ~6,600 idle runners minus 1,000 queued
		// and 150 in flight: every group can be served in full.
		if total != 50*20 {
			t.Errorf("unique=%v: %d slots, want every pending job served", unique, total)
		}
		checkInvariants(t, in, out, false)
	}
}
