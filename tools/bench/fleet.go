package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// fleetGroups are four label classes of a 50-runner fleet. Runners carry
// more labels than their group asks for, as real ones do; the classes are
// disjoint so each has an exact lower bound on its makespan.
var fleetGroups = []groupSpec{
	{ID: "small", Labels: []string{"self-hosted", "linux", "small"}, Extra: []string{"x64"}, Runners: 20},
	{ID: "large", Labels: []string{"self-hosted", "linux", "large"}, Extra: []string{"x64", "docker"}, Runners: 15},
	{ID: "arm", Labels: []string{"self-hosted", "arm64"}, Extra: []string{"linux"}, Runners: 10},
	{ID: "gpu", Labels: []string{"self-hosted", "gpu"}, Extra: []string{"linux", "cuda"}, Runners: 5},
}

// logNormal60 draws job durations with a mean of 60 s (σ = 0.6: most jobs
// 25–130 s, a long tail of several minutes).
func logNormal60(r *rand.Rand) time.Duration {
	const sigma = 0.6
	mu := math.Log(60) - sigma*sigma/2
	return time.Duration(math.Exp(mu+sigma*r.NormFloat64()) * float64(time.Second))
}

// fleetRun is one variant's outcome, all in simulated time.
type fleetRun struct {
	Name          string
	IdleQueuedPct float64
	Makespan      map[string]float64 // class → makespan ÷ lower bound
	// Greedy is, per class, the makespan of a zero-latency FIFO schedule of
	// the same jobs in the same order ÷ the lower bound: what list
	// scheduling can reach at best, so Makespan ÷ Greedy is our overhead.
	Greedy          map[string]float64
	WorstGreedy     float64
	WorstMakespan   float64
	Wait            dist
	Jobs            int
	Requests        int
	Dispatches      int
	IdleRequests    int
	IdleWindow      time.Duration
	RequestsPerHour float64
	// Normalised figures remove what Speed distorts: token fetches (one
	// per wall hour) and the pages of the failed-delivery scan, whose
	// window is an hour of wall time and so spans Speed hours of deliveries;
	// each scan is counted as its first page only.
	NormRequests int
	NormPerHour  float64
	BusyPaths    map[string]int // "METHOD path-shape" → count
	IdlePaths    map[string]int
}

// variant is how the server is configured and fed webhooks.
type variant struct {
	Name                              string
	Webhooks                          bool
	Interval, Reconcile, StartTimeout time.Duration // simulated
	// Redeliver is the failed-delivery scan interval (simulated); zero
	// keeps the product's default, which is wall time here.
	Redeliver time.Duration
	// Idle is how long (simulated) the server idles after the last job, to
	// count requests per idle hour.
	Idle time.Duration
	// Profile, when set, is where a pprof CPU profile of the server is
	// written while the jobs run, for ProfileFor of wall time.
	Profile    string
	ProfileFor time.Duration
}

func runFleet(ctx context.Context, e env) (result, error) {
	r := result{Title: "2–3. Fleet utilisation and GitHub API economy (50 runners, 4 label classes)"}
	// Speed is bounded by ghsim's webhook sender, which posts one delivery
	// at a time as GitHub does per hook: 50 runners finishing 60 s jobs
	// emit about 5 deliveries a simulated second, so at Speed 60 it must
	// sustain 300/s and falls behind (measured: idle-while-queued 4–21 %
	// from delivery lag alone). At Speed 15–20 it keeps up.
	// dispatchoor idles a whole simulated hour: its delivery scan runs
	// every 30 minutes, so a shorter window would count 0 or 1 of them and
	// extrapolate. The baseline's idle hour is dominated by its polls.
	jobs, speed, idle, baseIdle := 2000, 15.0, time.Hour, 15*time.Minute
	if e.Short {
		jobs, speed, idle, baseIdle = 500, 20.0, time.Hour, 10*time.Minute
	}
	variants := []variant{
		// The product's defaults (15 s tick, 5 min reconcile, 30 min start
		// timeout, 30 min delivery scan) on the simulated clock.
		{Name: "dispatchoor", Webhooks: true, Interval: 15 * time.Second, Reconcile: 5 * time.Minute, StartTimeout: 30 * time.Minute,
			Redeliver: 30 * time.Minute, Idle: idle},
		// Polling: webhooks are acknowledged and thrown away, never reach
		// the server; runners are re-listed every 30 s and
		// a triggered job stops holding capacity after 30 s, which is what
		// a 30 s poll of runs would tell it at best.
		{Name: "polling baseline", Interval: 30 * time.Second, Reconcile: 30 * time.Second, StartTimeout: 30 * time.Second,
			Redeliver: 30 * time.Minute, Idle: baseIdle},
	}
	r.line("%d jobs spread over the classes in proportion to their runners (%s), log-normal durations with mean 60 s "+
		"(σ 0.6), all enqueued while the groups were paused and released at once (t0). Simulated at Speed %g; "+
		"ghsim's pickup delay is 1 ms so GitHub's own pickup (seconds on github.com) is not counted against either variant. "+
		"Configured intervals are the simulated ones divided by Speed, so both variants run on the same simulated clock. "+
		"After the last job, the server idles (dispatchoor %s, baseline %s of simulated time) to count requests per idle hour.",
		jobs, classList(), speed, idle, baseIdle)
	r.line("")
	var runs []fleetRun
	for _, v := range variants {
		fr, err := fleetOn(ctx, e, v, jobs, speed)
		if err != nil {
			return r, fmt.Errorf("%s: %w", v.Name, err)
		}
		runs = append(runs, fr)
	}
	us, base := runs[0], runs[1]
	r.line("| | idle-while-queued | makespan ÷ bound (small / large / arm / gpu) | zero-latency FIFO ÷ bound (worst class) | job wait p50 | job wait p99 | requests per job (raw) | per job (normalised) | per idle hour (raw) | per idle hour (normalised) |")
	r.line("|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range runs {
		var ms []string
		for _, g := range fleetGroups {
			ms = append(ms, fmt.Sprintf("%.3f", f.Makespan[g.ID]))
		}
		r.line("| %s | %.3f %% | %s | %.3f | %s | %s | %.2f (%d / %d) | %.2f | %.1f | %.1f |", f.Name, f.IdleQueuedPct, strings.Join(ms, " / "), f.WorstGreedy,
			secs(f.Wait.P50), secs(f.Wait.P99), ratio(float64(f.Requests), float64(f.Dispatches)), f.Requests, f.Dispatches,
			ratio(float64(f.NormRequests), float64(f.Dispatches)), f.RequestsPerHour, f.NormPerHour)
	}
	r.line("")
	for _, f := range runs {
		r.line("Requests of %s while busy: %s. While idle: %s.", f.Name, topPaths(f.BusyPaths), topPaths(f.IdlePaths))
		r.line("")
	}
	idleRatio := ratio(base.IdleQueuedPct, us.IdleQueuedPct)
	r.line("")
	r.line("Ratios measured in this run: idle-while-queued baseline ÷ dispatchoor = **%.1f×**; worst makespan ratio %.3f vs %.3f; "+
		"job wait p50 %.2f× and p99 %.2f× shorter; %.2f× fewer requests per job.",
		idleRatio, us.WorstMakespan, base.WorstMakespan, ratio(float64(base.Wait.P50), float64(us.Wait.P50)),
		ratio(float64(base.Wait.P99), float64(us.Wait.P99)),
		ratio(ratio(float64(base.Requests), float64(base.Dispatches)), ratio(float64(us.Requests), float64(us.Dispatches))))
	r.line("")
	r.line("Normalised request counts leave out installation-token fetches (tokens live an hour of wall time here, as on GitHub, "+
		"so a run sees about one; +1 per idle hour is added back) and count each scan of `GET /app/hook/deliveries` as one request: "+
		"the server's redelivery window is an hour of *wall* time, which at Speed %g spans %g simulated hours of deliveries, so "+
		"the raw run pages through every delivery of the run on each scan. On GitHub an idle hour's scan is one page.", speed, speed)
	r.line("")
	r.line("What Speed does: latencies are wall-clock, so each millisecond the server takes to react costs %g ms of simulated "+
		"runner time. dispatchoor's idle-while-queued is therefore an over-estimate by about that factor against real time; "+
		"the baseline's is dominated by its 30 s simulated poll and barely depends on Speed.", speed)

	r.check("idle-while-queued", "≤ 0.5 %", fmt.Sprintf("%.3f %%", us.IdleQueuedPct), us.IdleQueuedPct <= 0.5)
	r.check("idle-while-queued vs polling", "≥ 20× lower", fmt.Sprintf("%.1f×", idleRatio), idleRatio >= 20)
	r.check("makespan ÷ lower bound (worst class)", "≤ 1.02", fmt.Sprintf("%.3f (zero-latency FIFO: %.3f)", us.WorstMakespan, us.WorstGreedy), us.WorstMakespan <= 1.02)
	overhead := 0.0
	for _, g := range fleetGroups {
		overhead = math.Max(overhead, ratio(us.Makespan[g.ID], us.Greedy[g.ID]))
	}
	r.check("makespan ÷ zero-latency FIFO makespan (worst class: our own overhead)", "≤ 1.02", fmt.Sprintf("%.3f", overhead), overhead <= 1.02)
	perJob := ratio(float64(us.NormRequests), float64(us.Dispatches))
	r.check("GitHub requests per dispatched job (normalised)", "≤ 1.1", fmt.Sprintf("%.2f (raw %.2f; baseline %.2f)", perJob,
		ratio(float64(us.Requests), float64(us.Dispatches)), ratio(float64(base.NormRequests), float64(base.Dispatches))), perJob <= 1.1)
	r.check("GitHub requests per idle hour per installation (normalised)", "≤ 15", fmt.Sprintf("%.1f (raw %.1f; baseline %.1f)",
		us.NormPerHour, us.RequestsPerHour, base.NormPerHour), us.NormPerHour <= 15)
	return r, nil
}

func classList() string {
	var s []string
	for _, g := range fleetGroups {
		s = append(s, fmt.Sprintf("%s: %d runners", g.ID, g.Runners))
	}
	return strings.Join(s, ", ")
}

func fleetOn(ctx context.Context, e env, v variant, jobs int, speed float64) (fr fleetRun, err error) {
	idle := v.Idle
	fr = fleetRun{Name: v.Name, Makespan: map[string]float64{}, Greedy: map[string]float64{}, IdleWindow: idle, BusyPaths: map[string]int{}, IdlePaths: map[string]int{}}
	w, err := newWorld(worldOptions{Seed: e.Seed, Speed: speed, PickupDelay: time.Millisecond, Groups: fleetGroups, Duration: logNormal60})
	if err != nil {
		return fr, err
	}
	defer w.close()
	wall := func(d time.Duration) time.Duration { return time.Duration(float64(d) / speed) }
	var pprofAddr string
	if v.Profile != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return fr, err
		}
	}
	s, err := startServer(ctx, w, serverOptions{Bin: e.Bin, Dir: filepath.Join(e.Dir, "fleet-"+strings.ReplaceAll(v.Name, " ", "-")),
		Interval: wall(v.Interval), Reconcile: wall(v.Reconcile), StartTimeout: wall(v.StartTimeout),
		Redeliver: wall(v.Redeliver), Pprof: pprofAddr, Groups: fleetGroups})
	if err != nil {
		return fr, err
	}
	defer s.stop()
	if v.Webhooks {
		w.sim.SetWebhookURL(s.url + "/api/github/hook")
	} else {
		// Webhooks ignored, not failed: a failed delivery is one the server
		// asks GitHub to redeliver, and 12,000 of them exhaust the App's
		// 5,000 requests an hour (found in a first full run: the baseline
		// stalled for the rest of the hour).
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		defer sink.Close()
		w.sim.SetWebhookURL(sink.URL)
	}
	for _, g := range fleetGroups {
		if err := s.setPaused(ctx, g.ID, true); err != nil {
			return fr, err
		}
	}
	// Jobs in proportion to runners, round robin over a weighted list.
	var weighted []groupSpec
	for _, g := range fleetGroups {
		for range g.Runners {
			weighted = append(weighted, g)
		}
	}
	perRound := len(weighted)
	if _, err := enqueueMany(ctx, s, weighted, jobs/perRound*perRound, 4); err != nil {
		return fr, err
	}
	jobs = jobs / perRound * perRound
	t0 := w.sim.Now()
	for _, g := range fleetGroups {
		if err := s.setPaused(ctx, g.ID, false); err != nil {
			return fr, err
		}
	}
	if v.Profile != "" {
		profiled := startCPUProfile(ctx, pprofAddr, v.Profile, v.ProfileFor)
		defer func() {
			if perr := <-profiled; perr != nil && err == nil {
				err = perr
			}
		}()
	}
	done := func() bool {
		n := 0
		for _, j := range w.sim.Jobs() {
			if j.Status == ghsim.StatusCompleted {
				n++
			}
		}
		return n >= jobs
	}
	if !waitFor(ctx, wall(10*time.Hour), 250*time.Millisecond, done) {
		return fr, fmt.Errorf("jobs not all completed within 10 simulated hours (server log %s)", s.log.Name())
	}
	tEnd := w.sim.Now()
	time.Sleep(wall(idle))
	tIdle := w.sim.Now()

	fleetFigures(&fr, w.sim.Jobs(), t0)
	normIdle := 0
	for _, q := range w.sim.Requests(nil) {
		distorted := strings.HasSuffix(q.Path, "/access_tokens") ||
			(strings.HasSuffix(q.Path, "/app/hook/deliveries") && q.Query.Get("cursor") != "")
		switch {
		case q.Time.Before(t0):
		case q.Time.Before(tEnd):
			fr.Requests++
			fr.BusyPaths[shape(q)]++
			if !distorted {
				fr.NormRequests++
			}
			if q.Method == "POST" && strings.HasSuffix(q.Path, "/dispatches") && q.Status/100 == 2 {
				fr.Dispatches++
			}
		case q.Time.Before(tIdle):
			fr.IdleRequests++
			fr.IdlePaths[shape(q)]++
			if !distorted {
				normIdle++
			}
		}
	}
	// One installation in this world: per installation is the total.
	hours := tIdle.Sub(tEnd).Hours()
	fr.RequestsPerHour = float64(fr.IdleRequests) / hours
	fr.NormPerHour = float64(normIdle)/hours + 1 // + the hourly token
	return fr, nil
}

// fleetFigures computes utilisation from GitHub's side of the story: when
// each job was created (our dispatch), started and completed on which
// runner. A class's queue is non-empty from t0 until its last dispatch;
// every runner-second of that class idle in that window is idle while a
// matching job waited in our queue.
func fleetFigures(fr *fleetRun, jobs []ghsim.Job, t0 time.Time) {
	type class struct {
		sum          time.Duration
		lastDispatch time.Time
		end          time.Time
		busy         time.Duration // inside [t0, lastDispatch]
	}
	classes := map[string]*class{}
	var end time.Time
	var waits []time.Duration
	for _, j := range jobs {
		g, _, _ := strings.Cut(j.RunnerName, "-")
		c := classes[g]
		if c == nil {
			c = &class{}
			classes[g] = c
		}
		c.sum += j.Duration
		if j.CreatedAt.After(c.lastDispatch) {
			c.lastDispatch = j.CreatedAt
		}
		if j.CompletedAt.After(c.end) {
			c.end = j.CompletedAt
		}
		if j.CompletedAt.After(end) {
			end = j.CompletedAt
		}
		waits = append(waits, j.StartedAt.Sub(t0))
	}
	// Busy overlap needs the class window, so a second pass.
	for _, j := range jobs {
		g, _, _ := strings.Cut(j.RunnerName, "-")
		c := classes[g]
		lo, hi := maxTime(j.StartedAt, t0), minTime(j.CompletedAt, c.lastDispatch)
		if hi.After(lo) {
			c.busy += hi.Sub(lo)
		}
	}
	var idleQueued, total time.Duration
	fr.WorstMakespan = 0
	for _, g := range fleetGroups {
		c := classes[g.ID]
		if c == nil {
			continue
		}
		window := c.lastDispatch.Sub(t0) * time.Duration(g.Runners)
		idleQueued += window - c.busy
		total += end.Sub(t0) * time.Duration(g.Runners)
		bound := c.sum / time.Duration(g.Runners)
		fr.Makespan[g.ID] = ratio(float64(c.end.Sub(t0)), float64(bound))
		fr.WorstMakespan = math.Max(fr.WorstMakespan, fr.Makespan[g.ID])
		fr.Greedy[g.ID] = ratio(float64(greedyMakespan(jobs, g)), float64(bound))
		fr.WorstGreedy = math.Max(fr.WorstGreedy, fr.Greedy[g.ID])
	}
	fr.IdleQueuedPct = 100 * ratio(float64(idleQueued), float64(total))
	fr.Wait = summarise(waits)
	fr.Jobs = len(jobs)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// shape names a request without its ids, so requests can be counted by kind.
func shape(q ghsim.Request) string {
	parts := strings.Split(strings.TrimPrefix(q.Path, "/api/v3"), "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = "{id}"
		}
	}
	return q.Method + " " + strings.Join(parts, "/")
}

// topPaths lists the kinds of request by count, most first.
func topPaths(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var xs []kv
	for k, v := range m {
		xs = append(xs, kv{k, v})
	}
	slices.SortFunc(xs, func(a, b kv) int { return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.k, b.k)) })
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("`%s` %d", x.k, x.v))
	}
	return strings.Join(s, ", ")
}

// greedyMakespan schedules the class's jobs, in the order they were
// dispatched, each on the runner that frees up first, with no latency at
// all: the best a FIFO dispatcher can do with these durations.
func greedyMakespan(jobs []ghsim.Job, g groupSpec) time.Duration {
	var mine []ghsim.Job
	for _, j := range jobs {
		if c, _, _ := strings.Cut(j.RunnerName, "-"); c == g.ID {
			mine = append(mine, j)
		}
	}
	slices.SortFunc(mine, func(a, b ghsim.Job) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	free := make([]time.Duration, g.Runners)
	for _, j := range mine {
		i := slices.Index(free, slices.Min(free))
		free[i] += j.Duration
	}
	return slices.Max(free)
}
