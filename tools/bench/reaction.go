package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runReaction measures runner idle → dispatch: four groups of one runner
// each, deep queues, one-second jobs. With one runner per group the k-th
// workflow_job.completed of a group is answered by its (k+1)-th dispatch,
// so every pair is exact, and the four groups keep the server as busy as a
// small fleet.
func runReaction(ctx context.Context, e env) (result, error) {
	r := result{Title: "1. Reaction latency: runner-idle webhook → dispatch request on the wire"}
	events := map[string]int{"SQLite": 10_000, "PostgreSQL": 10_000}
	if e.Short {
		events = map[string]int{"SQLite": 1_000, "PostgreSQL": 1_000}
	}
	const speed = 100
	var groups []groupSpec
	for i := range 4 {
		// One org (installation) each: 10,000 dispatches in minutes would
		// exhaust one installation's 5,000 an hour.
		groups = append(groups, groupSpec{ID: fmt.Sprintf("r%d", i), Labels: []string{"self-hosted", fmt.Sprintf("react-%d", i)},
			Runners: 1, Org: fmt.Sprintf("org%d", i)})
	}
	bs, release, err := backends(ctx, e, "reaction")
	defer release()
	if err != nil {
		return r, err
	}
	r.line("Four groups of one runner each (each in its own org and installation), %d events on SQLite and %d on PostgreSQL, jobs of 1 s and a pickup of 1 s simulated at Speed %d "+
		"(10 ms each of wall time). Measured from the moment ghsim starts posting `workflow_job.completed` to the moment the "+
		"next `POST …/dispatches` of that group reaches ghsim's listener (both wall clock, same process). The dispatcher's "+
		"safety tick is 30 s and the reconcile 5 min, so every dispatch measured was caused by the webhook.", events["SQLite"], events["PostgreSQL"], speed)
	r.line("")
	r.line("The floor is the same world against a minimal server on the same database that verifies the signature, " +
		"inserts and selects one row and sends the next dispatch with an installation token (tools/bench/floor.go), " +
		"measured in the same run: the ratios carry across machines.")
	r.line("")
	r.line("| database | server | p50 | p99 | max | events | webhook ack p99 |")
	r.line("|---|---|---|---|---|---|---|")
	for _, b := range bs {
		d, ack, err := reactionOn(ctx, e, b, groups, speed, events[b.Name])
		if err != nil {
			return r, fmt.Errorf("%s: %w", b.Name, err)
		}
		fd, fack, err := reactionFloor(ctx, e, b, groups, speed, events[b.Name])
		if err != nil {
			return r, fmt.Errorf("%s floor: %w", b.Name, err)
		}
		r.line("| %s | dispatchoor | %s | %s | %s | %d | %s |", b.Name, ms(d.P50), ms(d.P99), ms(d.Max), d.N, ms(ack.P99))
		r.line("| %s | floor | %s | %s | %s | %d | %s |", b.Name, ms(fd.P50), ms(fd.P99), ms(fd.Max), fd.N, ms(fack.P99))
		r.line("| %s | ratio | %.1f× | **%.1f×** | | | |", b.Name, d.P50.Seconds()/fd.P50.Seconds(), d.P99.Seconds()/fd.P99.Seconds())
		r.check("reaction p99, "+b.Name, "≤ 20 ms", ms(d.P99), d.P99 <= 20*time.Millisecond)
	}
	return r, nil
}

// reactionFloor runs the same world against the floor server, which
// answers each runner-idle webhook with the next dispatch.
func reactionFloor(ctx context.Context, e env, b backend, groups []groupSpec, speed float64, events int) (dist, dist, error) {
	w, err := newWorld(worldOptions{Seed: e.Seed, Speed: speed, Groups: groups,
		Duration: func(*rand.Rand) time.Duration { return time.Second }})
	if err != nil {
		return dist{}, dist{}, err
	}
	defer w.close()
	fl, err := startFloor(ctx, e, w, b, filepath.Join(e.Dir, "reaction-floor-"+b.Name), true)
	if err != nil {
		return dist{}, dist{}, err
	}
	defer fl.stop()
	w.sim.SetWebhookURL(fl.url + "/api/github/hook")
	client := &http.Client{Timeout: 30 * time.Second}
	for _, g := range groups {
		resp, err := client.Post(fl.url+"/kick/"+g.Owner()+"/"+g.ID, "application/json", nil)
		if err != nil {
			return dist{}, dist{}, fmt.Errorf("start the floor's first dispatch: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return dist{}, dist{}, fmt.Errorf("start the floor's first dispatch of %s: %s", g.ID, resp.Status)
		}
	}
	need := events + len(groups)
	if !waitFor(ctx, 20*time.Minute, 200*time.Millisecond, func() bool { return len(w.dispatchArrivals()) >= need }) {
		return dist{}, dist{}, fmt.Errorf("only %d of %d floor dispatches within 20 minutes", len(w.dispatchArrivals()), need)
	}
	return reactionLatencies(w, groups)
}

func reactionOn(ctx context.Context, e env, b backend, groups []groupSpec, speed float64, events int) (dist, dist, error) {
	w, err := newWorld(worldOptions{Seed: e.Seed, Speed: speed, Groups: groups,
		Duration: func(*rand.Rand) time.Duration { return time.Second }})
	if err != nil {
		return dist{}, dist{}, err
	}
	defer w.close()
	s, err := startServer(ctx, w, serverOptions{Bin: e.Bin, Dir: filepath.Join(e.Dir, "reaction-"+b.Name), DSN: b.DSN,
		Interval: 30 * time.Second, Reconcile: 5 * time.Minute, StartTimeout: 30 * time.Minute, Groups: groups})
	if err != nil {
		return dist{}, dist{}, err
	}
	defer s.stop()
	w.sim.SetWebhookURL(s.url + "/api/github/hook")

	perGroup := events/len(groups) + 2
	for _, g := range groups {
		if err := s.setPaused(ctx, g.ID, true); err != nil {
			return dist{}, dist{}, err
		}
	}
	if _, err := enqueueMany(ctx, s, groups, perGroup*len(groups), 4); err != nil {
		return dist{}, dist{}, err
	}
	for _, g := range groups {
		if err := s.setPaused(ctx, g.ID, false); err != nil {
			return dist{}, dist{}, err
		}
	}
	need := events + len(groups)
	if !waitFor(ctx, 20*time.Minute, 200*time.Millisecond, func() bool { return len(w.dispatchArrivals()) >= need }) {
		return dist{}, dist{}, fmt.Errorf("only %d of %d dispatches within 20 minutes (server log %s)", len(w.dispatchArrivals()), need, s.log.Name())
	}
	return reactionLatencies(w, groups)
}

// reactionLatencies pairs each group's k-th runner-idle webhook with its
// (k+1)-th dispatch, and returns those latencies and the webhook acks.
func reactionLatencies(w *world, groups []groupSpec) (dist, dist, error) {
	completed := map[string][]time.Time{}
	var acks []time.Duration
	for _, d := range w.sim.Deliveries() {
		if d.Event != "workflow_job" || d.Action != "completed" || !d.Delivered {
			continue
		}
		var p struct {
			Job struct {
				Runner string `json:"runner_name"`
			} `json:"workflow_job"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			return dist{}, dist{}, fmt.Errorf("decode delivery %s: %w", d.GUID, err)
		}
		g, _, _ := strings.Cut(p.Job.Runner, "-")
		completed[g] = append(completed[g], w.sendStart(d))
		acks = append(acks, d.Duration)
	}
	dispatched := map[string][]time.Time{}
	for _, a := range w.dispatchArrivals() {
		g := strings.TrimSuffix(a.Workflow, ".yml")
		dispatched[g] = append(dispatched[g], a.At)
	}
	var lat []time.Duration
	for _, g := range groups {
		c, d := completed[g.ID], dispatched[g.ID]
		slices.SortFunc(c, func(a, b time.Time) int { return a.Compare(b) })
		slices.SortFunc(d, func(a, b time.Time) int { return a.Compare(b) })
		// d[0] filled the idle runner at unpause; d[k+1] answers c[k].
		for k := 0; k < len(c) && k+1 < len(d); k++ {
			l := d[k+1].Sub(c[k])
			if l < 0 {
				return dist{}, dist{}, fmt.Errorf("group %s: dispatch %d precedes the completion it should answer by %s", g.ID, k+1, -l)
			}
			lat = append(lat, l)
		}
	}
	return summarise(lat), summarise(acks), nil
}

// enqueueMany adds n jobs spread round-robin over groups with the given
// number of concurrent clients and returns each enqueue's latency.
func enqueueMany(ctx context.Context, s *server, groups []groupSpec, n, workers int) ([]time.Duration, error) {
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	lat := make([]time.Duration, 0, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				start := time.Now()
				if _, err := s.enqueue(ctx, groups[int(i)%len(groups)].ID); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(start))
			}
		})
	}
	wg.Wait()
	return lat, firstErr
}
