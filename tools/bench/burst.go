package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/configgen"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// runBurst: 300 runners come online at once (after an outage, or a new
// fleet) with 1,000 jobs queued across 3 installations, against GitHub's
// documented secondary limits in real time. It reports the refusals GitHub
// sent (target 0), how long until every runner was at work against the
// least the limits allow (target ≤ 1.1×), and the requests spent.
func runBurst(ctx context.Context, e env) (result, error) {
	res := result{Key: "burst", Title: "Burst: 300 runners online at once, 1,000 jobs, GitHub's secondary limits"}
	limits := ghsim.DefaultSecondaryLimits()
	pace := &configgen.Pacing{Concurrent: limits.Concurrent, EndpointPointsPerMinute: limits.EndpointPointsPerMinute,
		ContentPerMinute: limits.ContentPerMinute, ContentPerHour: limits.ContentPerHour}
	paced, err := burstOnce(ctx, e, "burst", limits, pace, 5*time.Minute)
	if err != nil {
		return res, err
	}
	if !paced.allAtWork {
		return res, fmt.Errorf("only %d of %d runners at work after 5 minutes", paced.busy, burstRunners)
	}
	// The least the limits allow: each installation's 100 dispatches are
	// content-generating, 80 a minute, so the last ones wait for the first
	// minute's window to pass.
	minimum := time.Duration((burstRunnersEach-1)/limits.ContentPerMinute) * time.Minute
	ratio := paced.took.Seconds() / minimum.Seconds()
	res.line("- %d installations × %d runners come online at once; %d jobs queued; secondary limits: %d content-generating requests a minute, %d an hour, %d points a minute per endpoint, %d concurrent (GitHub's documented set), enforced by the simulator per installation in wall time.",
		burstInstallations, burstRunnersEach, burstJobs, limits.ContentPerMinute, limits.ContentPerHour, limits.EndpointPointsPerMinute, limits.Concurrent)
	res.line("- paced (`github.pacing` at GitHub's limits, the default): every runner at work after **%s**; the least the limits allow is %s (each installation's last %d dispatches wait for the first minute's window) → **%.3f×**; secondary-limit refusals **%d**; requests spent %d (%.2f per runner put to work)",
		paced.took.Round(100*time.Millisecond), minimum, burstRunnersEach-limits.ContentPerMinute, ratio, paced.refusals, paced.requests, float64(paced.requests)/burstRunners)
	if !e.Short {
		// Unpaced, as before the pacer existed: GitHub refuses, and its
		// blocks double while the refused requests keep coming.
		unpaced, err := burstOnce(ctx, e, "burst-unpaced", limits, nil, 3*time.Minute)
		if err != nil {
			return res, err
		}
		at := fmt.Sprintf("every runner at work after %s", unpaced.took.Round(100*time.Millisecond))
		if !unpaced.allAtWork {
			at = fmt.Sprintf("%d of %d runners at work after %s", unpaced.busy, burstRunners, unpaced.took.Round(time.Second))
		}
		res.line("- unpaced (`github.pacing` all 0, as before the pacer): %s; secondary-limit refusals **%d**; requests spent %d", at, unpaced.refusals, unpaced.requests)
	}
	res.check("secondary-limit refusals", "0", fmt.Sprint(paced.refusals), paced.refusals == 0)
	res.check("time to put all runners to work ÷ least allowed", "≤ 1.1×", fmt.Sprintf("%.3f×", ratio), ratio <= 1.1)
	return res, nil
}

const (
	burstInstallations = 3
	burstRunnersEach   = 100
	burstRunners       = burstInstallations * burstRunnersEach
	burstJobs          = 1000
)

type burstOutcome struct {
	took               time.Duration
	allAtWork          bool
	busy               int
	refusals, requests int
}

// burstOnce runs one burst against a fresh world and server.
func burstOnce(ctx context.Context, e env, name string, limits ghsim.SecondaryLimits, pace *configgen.Pacing, limit time.Duration) (burstOutcome, error) {
	var out burstOutcome
	var groups []groupSpec
	for i := range burstInstallations {
		groups = append(groups, groupSpec{ID: fmt.Sprintf("burst%d", i), Labels: []string{"self-hosted", fmt.Sprintf("burst%d", i)},
			Runners: burstRunnersEach, Org: fmt.Sprintf("org%d", i)})
	}
	w, err := newWorld(burstWorld(e.Seed, groups, limits))
	if err != nil {
		return out, err
	}
	defer w.close()
	srv, err := startServer(ctx, w, serverOptions{Bin: e.Bin, Dir: filepath.Join(e.Dir, name), Interval: 15 * time.Second,
		Reconcile: time.Hour, StartTimeout: time.Hour, Groups: groups, Pacing: pace})
	if err != nil {
		return out, err
	}
	defer srv.stop()
	w.sim.SetWebhookURL(srv.url + "/api/github/hook")
	for i := range burstJobs {
		if _, err := srv.enqueue(ctx, groups[i%burstInstallations].ID); err != nil {
			return out, fmt.Errorf("enqueue: %w", err)
		}
	}
	all := func(ghsim.Request) bool { return true }
	before := len(w.sim.Requests(all))
	start := time.Now()
	for _, r := range w.sim.Runners() {
		if err := w.sim.SetRunnerOnline(r.ID, true); err != nil {
			return out, err
		}
	}
	// GitHub sends no webhook when a runner comes online: a reconcile (here
	// asked for at once, as the periodic one would) finds them.
	if err := srv.call(ctx, http.MethodPost, "/api/v1/runners/refresh", nil, nil); err != nil {
		return out, fmt.Errorf("refresh runners: %w", err)
	}
	busy := func() int {
		n := 0
		for _, r := range w.sim.Runners() {
			if r.Busy {
				n++
			}
		}
		return n
	}
	out.allAtWork = waitFor(ctx, limit, 100*time.Millisecond, func() bool { return busy() == burstRunners })
	out.took, out.busy = time.Since(start), busy()
	out.refusals = w.sim.SecondaryRefusals()
	out.requests = len(w.sim.Requests(all)) - before
	return out, nil
}

// burstWorld is the burst world: real time, runners offline until the burst,
// jobs that outlast the measurement.
func burstWorld(seed uint64, groups []groupSpec, limits ghsim.SecondaryLimits) worldOptions {
	return worldOptions{Seed: seed, Speed: 1, PickupDelay: 500 * time.Millisecond, Groups: groups, Offline: true,
		SecondaryLimits: limits, Duration: func(*rand.Rand) time.Duration { return time.Hour }}
}
