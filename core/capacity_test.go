package core

import (
	"fmt"
	"slices"
	"testing"
)

func grp(id string, pending int, labels ...string) GroupLoad {
	return GroupLoad{Group: Group{ID: id, RunnerLabels: labels, Enabled: true}, Pending: pending}
}

// idle makes n idle online runners with ids from first on.
func idle(first int64, n int, labels ...string) []Runner {
	var rs []Runner
	for i := range n {
		rs = append(rs, Runner{ID: first + int64(i), Status: RunnerOnline, Labels: labels})
	}
	return rs
}

func queued(n int, labels ...string) []QueuedDemand {
	var qs []QueuedDemand
	for range n {
		qs = append(qs, QueuedDemand{Labels: labels})
	}
	return qs
}

func slotsOf(out []Allocation) map[string]int {
	m := map[string]int{}
	for _, a := range out {
		m[a.GroupID] = a.Slots
	}
	return m
}

func TestCapacity(t *testing.T) {
	paused := grp("p", 5, "sh")
	paused.Group.Paused = true
	disabled := grp("d", 5, "sh")
	disabled.Group.Enabled = false
	limited := grp("m", 10, "sh")
	limited.Group.MaxConcurrent = 5
	limited.InFlight, limited.Running = 1, 2
	full := grp("m", 10, "sh")
	full.Group.MaxConcurrent = 3
	full.Running = 4
	inflight := grp("a", 5, "sh")
	inflight.InFlight = 2
	pausedInFlight := grp("p", 5, "sh")
	pausedInFlight.Group.Paused = true
	pausedInFlight.InFlight = 2

	tests := []struct {
		name string
		in   CapacityInput
		want map[string]int
	}{
		{"no idle runners gives nothing",
			CapacityInput{Groups: []GroupLoad{grp("a", 3, "sh")}},
			map[string]int{"a": 0}},
		{"several slots go out in one pass",
			CapacityInput{Groups: []GroupLoad{grp("a", 5, "sh")}, Runners: idle(1, 3, "sh")},
			map[string]int{"a": 3}},
		{"slots never exceed pending jobs",
			CapacityInput{Groups: []GroupLoad{grp("a", 2, "sh")}, Runners: idle(1, 9, "sh")},
			map[string]int{"a": 2}},
		{"max_concurrent counts in-flight and running jobs",
			CapacityInput{Groups: []GroupLoad{limited}, Runners: idle(1, 10, "sh")},
			map[string]int{"m": 2}},
		{"group over max_concurrent gets nothing",
			CapacityInput{Groups: []GroupLoad{full}, Runners: idle(1, 10, "sh")},
			map[string]int{"m": 0}},
		{"paused and disabled groups get nothing",
			CapacityInput{Groups: []GroupLoad{paused, disabled, grp("a", 1, "sh")}, Runners: idle(1, 10, "sh")},
			map[string]int{"p": 0, "d": 0, "a": 1}},
		{"group without runner labels never matches the whole fleet",
			CapacityInput{Groups: []GroupLoad{grp("x", 3)}, Runners: idle(1, 3, "sh")},
			map[string]int{"x": 0}},
		{"labels match case-insensitively",
			CapacityInput{Groups: []GroupLoad{grp("a", 5, "Self-Hosted", "GPU")}, Runners: idle(1, 2, "self-hosted", "gpu", "x64")},
			map[string]int{"a": 2}},
		{"in-flight jobs hold runners back",
			CapacityInput{Groups: []GroupLoad{inflight}, Runners: idle(1, 3, "sh")},
			map[string]int{"a": 1}},
		{"a paused group's in-flight jobs still hold runners back",
			CapacityInput{Groups: []GroupLoad{pausedInFlight, grp("a", 5, "sh")}, Runners: idle(1, 3, "sh")},
			map[string]int{"p": 0, "a": 1}},
		{"in-flight jobs of another group hold only runners they can use",
			CapacityInput{
				Groups:  []GroupLoad{func() GroupLoad { g := grp("gpu", 0, "sh", "gpu"); g.InFlight = 5; return g }(), grp("a", 5, "sh")},
				Runners: slices.Concat(idle(1, 1, "sh", "gpu"), idle(10, 2, "sh"))},
			map[string]int{"gpu": 0, "a": 2}},
		{"GitHub-queued demand this group's runners can take is subtracted",
			CapacityInput{Groups: []GroupLoad{grp("a", 5, "sh", "a")}, Runners: idle(1, 3, "sh", "a"), Queued: queued(2, "sh")},
			map[string]int{"a": 1}},
		{"GitHub-queued demand for other runners is not subtracted",
			CapacityInput{
				Groups:  []GroupLoad{grp("a", 5, "sh", "a")},
				Runners: slices.Concat(idle(1, 2, "sh", "a"), idle(10, 2, "sh", "b")),
				Queued:  queued(2, "sh", "b")},
			map[string]int{"a": 2}},
		{"GitHub-queued demand no runner can take is ignored",
			CapacityInput{Groups: []GroupLoad{grp("a", 5, "sh")}, Runners: idle(1, 2, "sh"), Queued: queued(4, "gpu")},
			map[string]int{"a": 2}},
		{"offline and busy runners never count",
			CapacityInput{
				Groups: []GroupLoad{grp("a", 5, "sh")},
				Runners: []Runner{
					{ID: 1, Status: RunnerOffline, Labels: []string{"sh"}},
					{ID: 2, Status: RunnerOnline, Busy: true, Labels: []string{"sh"}},
					{ID: 3, Status: RunnerOffline, Busy: true, Labels: []string{"sh"}},
					{ID: 4, Status: "", Labels: []string{"sh"}},
				}},
			map[string]int{"a": 0}},
		{"a runner listed twice is promised once",
			CapacityInput{Groups: []GroupLoad{grp("a", 5, "sh")}, Runners: slices.Concat(idle(1, 2, "sh"), idle(1, 2, "sh"))},
			map[string]int{"a": 2}},
		{"two groups sharing a pool split it round-robin",
			CapacityInput{Groups: []GroupLoad{grp("a", 10, "sh"), grp("b", 10, "sh")}, Runners: idle(1, 4, "sh")},
			map[string]int{"a": 2, "b": 2}},
		{"an odd runner goes to the first group of the round",
			CapacityInput{Groups: []GroupLoad{grp("a", 10, "sh"), grp("b", 10, "sh")}, Runners: idle(1, 5, "sh")},
			map[string]int{"a": 3, "b": 2}},
		{"a group that needs little leaves the rest to the other",
			CapacityInput{Groups: []GroupLoad{grp("a", 1, "sh"), grp("b", 10, "sh")}, Runners: idle(1, 5, "sh")},
			map[string]int{"a": 1, "b": 4}},
		{"narrow group is not starved by a broad one listed first",
			CapacityInput{
				Groups:  []GroupLoad{grp("broad", 5, "sh"), grp("gpu", 5, "sh", "gpu")},
				Runners: slices.Concat(idle(1, 1, "sh", "gpu"), idle(10, 1, "sh"))},
			map[string]int{"broad": 1, "gpu": 1}},
		{"a scarce runner goes to the group that can use nothing else",
			CapacityInput{
				Groups:  []GroupLoad{grp("broad", 1, "sh"), grp("gpu", 1, "sh", "gpu")},
				Runners: idle(1, 1, "sh", "gpu")},
			map[string]int{"broad": 0, "gpu": 1}},
		{"narrow queued demand is served before broad queued demand",
			// Listed first, the broad demand would take the gpu runner
			// (nobody else wants it) and leave c's runner to the narrow one.
			CapacityInput{
				Groups:  []GroupLoad{grp("c", 1, "sh", "x")},
				Runners: slices.Concat(idle(1, 1, "sh", "gpu"), idle(10, 1, "sh", "x")),
				Queued:  slices.Concat(queued(1, "sh"), queued(1, "sh", "gpu"))},
			map[string]int{"c": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := Capacity(tc.in)
			if len(out) != len(tc.in.Groups) {
				t.Fatalf("got %d allocations for %d groups", len(out), len(tc.in.Groups))
			}
			for i, a := range out {
				if a.GroupID != tc.in.Groups[i].Group.ID {
					t.Fatalf("allocation %d is for %q, want input order", i, a.GroupID)
				}
			}
			if got := slotsOf(out); !mapsEqual(got, tc.want) {
				t.Fatalf("slots %v, want %v", got, tc.want)
			}
			checkInvariants(t, tc.in, out, false)
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCapacityKeepsVersatileRunnerForGroupThatNeedsIt(t *testing.T) {
	// The special runners come first in the input; a first-fit would give
	// one to the broad group and leave the special group a runner short.
	// Two spellings, so the result cannot come from the buckets' key order.
	for _, special := range []string{"ai", "gpu"} {
		t.Run("special label "+special, func(t *testing.T) {
			in := CapacityInput{
				Groups:  []GroupLoad{grp("broad", 1, "sh"), grp("special", 2, "sh", special)},
				Runners: slices.Concat(idle(1, 2, "sh", special), idle(10, 1, "sh")),
			}
			out := Capacity(in)
			if got := slotsOf(out); got["broad"] != 1 || got["special"] != 2 {
				t.Fatalf("slots %v, want broad 1 and special 2", got)
			}
			if !slices.Equal(out[0].Runners, []int64{10}) {
				t.Fatalf("broad group was promised %v, want the plain runner 10", out[0].Runners)
			}
			checkInvariants(t, in, out, false)
		})
	}
}

func TestCapacitySharedRunnerPromisedOnce(t *testing.T) {
	// Both groups can use every runner: the sum of slots must not exceed
	// the runners, and no runner id may appear twice.
	in := CapacityInput{
		Groups:  []GroupLoad{grp("a", 10, "sh"), grp("b", 10, "SH", "linux")},
		Runners: idle(1, 3, "sh", "linux"),
	}
	out := Capacity(in)
	if total := out[0].Slots + out[1].Slots; total != 3 {
		t.Fatalf("promised %d runners, have 3", total)
	}
	checkInvariants(t, in, out, true)
}

func TestCapacityDeterministic(t *testing.T) {
	in := CapacityInput{
		Groups:  []GroupLoad{grp("a", 4, "sh"), grp("b", 4, "sh", "x"), grp("c", 4, "sh", "y")},
		Runners: slices.Concat(idle(1, 3, "sh", "x"), idle(10, 3, "sh", "y"), idle(20, 2, "sh")),
		Queued:  queued(1, "sh", "y"),
	}
	first := fmt.Sprint(Capacity(in))
	for range 20 {
		if got := fmt.Sprint(Capacity(in)); got != first {
			t.Fatalf("different answers for one input:\n%s\n%s", first, got)
		}
	}
}

// checkInvariants asserts what must hold for any input. With maximal set, it
// also asserts no promisable runner was left unused (only meaningful when
// nothing is reserved for queued or in-flight demand).
func checkInvariants(t *testing.T, in CapacityInput, out []Allocation, maximal bool) {
	t.Helper()
	byID := map[int64]Runner{}
	for _, r := range in.Runners {
		if _, ok := byID[r.ID]; !ok {
			byID[r.ID] = r
		}
	}
	promised := map[int64]string{}
	for i, a := range out {
		g := in.Groups[i]
		if a.Slots != len(a.Runners) {
			t.Fatalf("group %s: %d slots but %d runners", a.GroupID, a.Slots, len(a.Runners))
		}
		if a.Slots > max(g.Pending, 0) {
			t.Fatalf("group %s: %d slots for %d pending", a.GroupID, a.Slots, g.Pending)
		}
		if mc := g.Group.MaxConcurrent; mc > 0 && a.Slots > max(mc-g.InFlight-g.Running, 0) {
			t.Fatalf("group %s: %d slots over max_concurrent %d with %d in flight, %d running",
				a.GroupID, a.Slots, mc, g.InFlight, g.Running)
		}
		if (g.Group.Paused || !g.Group.Enabled) && a.Slots > 0 {
			t.Fatalf("group %s is paused or disabled but got %d slots", a.GroupID, a.Slots)
		}
		for _, id := range a.Runners {
			if other, dup := promised[id]; dup {
				t.Fatalf("runner %d promised to %s and %s", id, other, a.GroupID)
			}
			promised[id] = a.GroupID
			r, ok := byID[id]
			if !ok || !r.Idle() {
				t.Fatalf("group %s promised runner %d that is unknown or not idle", a.GroupID, id)
			}
			if !HasLabels(r.Labels, g.Group.RunnerLabels) {
				t.Fatalf("group %s promised runner %d with labels %v", a.GroupID, id, r.Labels)
			}
		}
	}
	if !maximal {
		return
	}
	for i, a := range out {
		g := in.Groups[i]
		headroom := g.Pending
		if mc := g.Group.MaxConcurrent; mc > 0 {
			headroom = min(headroom, mc-g.InFlight-g.Running)
		}
		if g.Group.Paused || !g.Group.Enabled || len(g.Group.RunnerLabels) == 0 || a.Slots >= headroom {
			continue
		}
		for id, r := range byID {
			if _, taken := promised[id]; !taken && r.Idle() && HasLabels(r.Labels, g.Group.RunnerLabels) {
				t.Fatalf("group %s has headroom but idle matching runner %d was left unused", a.GroupID, id)
			}
		}
	}
}
