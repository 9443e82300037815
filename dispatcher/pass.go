package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// PassReport says what one pass did.
type PassReport struct {
	// Slots is what core.Capacity allowed, summed over groups.
	Slots int
	// Claimed jobs moved to dispatching; each got one dispatch attempt.
	Claimed int
	// Outcomes counts the attempts by outcome (Outcome* constants).
	Outcomes map[string]int
}

// Pass runs one dispatch pass now: snapshot, capacity, claim, dispatch.
// Passes never overlap; Run calls it on every wake-up and tick.
func (d *Dispatcher) Pass(ctx context.Context) (PassReport, error) {
	d.passMu.Lock()
	defer d.passMu.Unlock()
	start := time.Now()
	defer func() { d.metrics.CycleDone(time.Since(start)) }()
	wokeAt, reason := d.takeWake()
	rep := PassReport{Outcomes: map[string]int{}}

	in, err := d.snapshot(ctx)
	if err != nil {
		return rep, err
	}
	var claimed []core.Job
	for _, a := range core.Capacity(in) {
		if a.Slots <= 0 {
			continue
		}
		rep.Slots += a.Slots
		jobs, err := d.queue.Claim(ctx, a.GroupID, a.Slots)
		if err != nil {
			// One group's failure must not starve the others.
			d.log.Error().Err(err).Str("group", a.GroupID).Int("slots", a.Slots).Msg("claim jobs")
			continue
		}
		claimed = append(claimed, jobs...)
	}
	rep.Claimed = len(claimed)
	if len(claimed) == 0 {
		return rep, nil
	}
	d.log.Debug().Str("reason", reason).Int("slots", rep.Slots).Int("claimed", len(claimed)).Msg("dispatching")

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		killed bool
		freed  bool
	)
	sem := make(chan struct{}, d.o.MaxParallel)
	for _, j := range claimed {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			outcome, err := d.dispatchJob(ctx, j, wokeAt)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, ErrKilled) {
				killed = true
				return
			}
			rep.Outcomes[outcome]++
			freed = freed || outcome == OutcomeFailed || outcome == OutcomeRetry
		}()
	}
	wg.Wait()
	if killed {
		return rep, ErrKilled
	}
	if freed {
		// A slot this pass counted on went unused; let the next job have it.
		d.Wake("dispatch did not trigger")
	}
	return rep, nil
}

// snapshot reads what core.Capacity needs. The reads are ordered so that a
// change racing the snapshot can only make it cautious: jobs are read
// before runners, so a run that starts meanwhile shows up twice (as an
// in-flight job and as a busy runner) rather than not at all (a running job
// and an idle runner), which could send one job too many.
func (d *Dispatcher) snapshot(ctx context.Context) (core.CapacityInput, error) {
	groups, err := d.store.ListGroups(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	counts, err := d.store.QueueCounts(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	active, err := d.store.ListJobsByStatus(ctx, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	queued, err := d.store.QueuedGitHubJobs(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	runners, err := d.store.ListRunners(ctx, store.RunnerFilter{})
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	holding, err := d.jobsHoldingRunners(ctx, runners, active)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}

	pending, running, inFlight := map[string]int{}, map[string]int{}, map[string]int{}
	for _, c := range counts {
		if c.Status == core.StatusPending {
			pending[c.GroupID] += c.Dispatchable
		}
	}
	now := d.now()
	for _, j := range active {
		switch {
		case j.Status == core.StatusRunning && holding[j.ID]:
			running[j.GroupID]++
		case d.startTimedOut(j, now):
			// A triggered run that never started (its runs-on matches no
			// runner, GitHub lost it) stops holding a runner of its group
			// after start_timeout, so it cannot freeze the group forever.
			// The reconciler flags it (log, metric) soon.
			if !d.isFlagged(j.ID) {
				d.requestRepair(0)
			}
		default:
			// Dispatching, triggered, or running on a runner we have not
			// seen busy yet: workflow_run in_progress and workflow_job
			// in_progress arrive in any order, and until the runner is
			// marked busy it still looks idle. Each such job keeps one
			// idle runner promised.
			inFlight[j.GroupID]++
		}
	}
	in := core.CapacityInput{Runners: store.CoreRunners(runners)}
	for _, g := range groups {
		in.Groups = append(in.Groups, core.GroupLoad{
			Group: g, Pending: pending[g.ID], InFlight: inFlight[g.ID], Running: running[g.ID],
		})
	}
	for _, q := range queued {
		// Jobs of our own runs are already counted as in-flight (or hold
		// a runner as running). A run dispatched without run details is
		// not linked yet and counts twice until correlated: cautious.
		if q.JobID != 0 {
			continue
		}
		in.Queued = append(in.Queued, core.QueuedDemand{Labels: q.Labels})
	}
	return in, nil
}

// jobsHoldingRunners returns our running jobs that a busy runner is known
// to be running, found through the runner's current GitHub job. Links of
// GitHub jobs to our jobs never change once set, so they are cached and a
// steady fleet costs no query; GitHub jobs of other workloads are looked up
// again only while one of our running jobs is still unaccounted for.
func (d *Dispatcher) jobsHoldingRunners(ctx context.Context, runners []store.RunnerRecord, active []core.Job) (map[int64]bool, error) {
	runningJobs := 0
	for _, j := range active {
		if j.Status == core.StatusRunning {
			runningJobs++
		}
	}
	holding := map[int64]bool{}
	if runningJobs == 0 {
		return holding, nil
	}
	var unknown []int64
	d.mu.Lock()
	live := make(map[int64]int64, len(runners))
	for _, r := range runners {
		if !r.Busy || r.CurrentJobID == 0 {
			continue
		}
		if job, ok := d.ghJobLinks[r.CurrentJobID]; ok {
			live[r.CurrentJobID] = job
			holding[job] = true
		} else {
			unknown = append(unknown, r.CurrentJobID)
		}
	}
	d.ghJobLinks = live // forget GitHub jobs no runner is running any more
	d.mu.Unlock()
	for _, id := range unknown {
		if len(holding) >= runningJobs {
			break
		}
		gj, err := d.store.GetGitHubJob(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if gj.JobID != 0 {
			holding[gj.JobID] = true
			d.mu.Lock()
			d.ghJobLinks[id] = gj.JobID
			d.mu.Unlock()
		}
	}
	return holding, nil
}

// startTimedOut reports whether a triggered job has waited longer than
// StartTimeout for its run to start.
func (d *Dispatcher) startTimedOut(j core.Job, now time.Time) bool {
	return j.Status == core.StatusTriggered && j.TriggeredAt != nil && now.Sub(*j.TriggeredAt) > d.o.StartTimeout
}

func (d *Dispatcher) isFlagged(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flagged[id]
}

func (d *Dispatcher) killed(point string) bool {
	return d.o.KillPoint != nil && d.o.KillPoint(point)
}
