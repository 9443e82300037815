package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// Pass runs one dispatch pass now: snapshot, capacity, claim, dispatch,
// and returns when every claimed job's dispatch has ended. Snapshots and
// claims never overlap; Run uses the same steps but does not wait for the
// dispatch requests (see Run).
func (d *Dispatcher) Pass(ctx context.Context) (PassReport, error) {
	start := time.Now()
	claimed, wokeAt, rep, err := d.claim(ctx)
	if err != nil || len(claimed) == 0 {
		d.metrics.CycleDone(time.Since(start))
		return rep, err
	}
	return d.dispatchClaimed(ctx, claimed, wokeAt, rep, start)
}

// passAsync is Run's pass: it claims, starts the dispatch requests and
// returns without waiting for GitHub's answers.
func (d *Dispatcher) passAsync(ctx context.Context) error {
	start := time.Now()
	claimed, wokeAt, rep, err := d.claim(ctx)
	if err != nil || len(claimed) == 0 {
		d.metrics.CycleDone(time.Since(start))
		return err
	}
	d.inflight.Add(1)
	go func() {
		defer d.inflight.Done()
		if _, err := d.dispatchClaimed(ctx, claimed, wokeAt, rep, start); err != nil && ctx.Err() == nil {
			d.log.Error().Err(err).Msg("dispatch pass failed")
		}
	}()
	return nil
}

// claim takes the pending wake-up, snapshots, computes capacity and claims
// the jobs it allows (step 1 of a dispatch). It holds passMu, so two claims
// never see the same snapshot; once it returns, the claimed jobs are in
// dispatching and the next snapshot counts them as in flight.
func (d *Dispatcher) claim(ctx context.Context) ([]core.Job, time.Time, PassReport, error) {
	d.passMu.Lock()
	defer d.passMu.Unlock()
	wokeAt, reason := d.takeWake()
	rep := PassReport{Outcomes: map[string]int{}}

	in, err := d.snapshot(ctx)
	if err != nil {
		return nil, wokeAt, rep, err
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
	if len(claimed) > 0 {
		d.log.Debug().Str("reason", reason).Int("slots", rep.Slots).Int("claimed", len(claimed)).Msg("dispatching")
	}
	return claimed, wokeAt, rep, nil
}

// dispatchClaimed sends the claimed jobs, at most MaxParallel requests at a
// time across all passes, and waits for them.
func (d *Dispatcher) dispatchClaimed(ctx context.Context, claimed []core.Job, wokeAt time.Time, rep PassReport, start time.Time) (PassReport, error) {
	defer func() { d.metrics.CycleDone(time.Since(start)) }()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		killed bool
		freed  bool
	)
	for _, j := range claimed {
		wg.Add(1)
		d.sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-d.sem }()
			outcome, err := d.dispatchJob(ctx, j, wokeAt)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, ErrKilled) {
				killed = true
				return
			}
			rep.Outcomes[outcome]++
			freed = freed || outcome == OutcomeFailed || outcome == OutcomeRetry || outcome == OutcomeWaiting
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

// snapshot reads what core.Capacity needs. It stops as soon as no job can
// go out: when no group may dispatch (all paused), when no runner is idle,
// or when the groups that may dispatch have nothing dispatchable. Pending
// jobs are counted last and only up to the number of idle runners (no pass
// can use more), through an index, so a deep queue costs a wake-up no more
// than a short one. The reads are ordered so that a change racing the
// snapshot can only make it cautious: jobs are read before runners, so a
// run that starts meanwhile shows up twice (as an in-flight job and as a
// busy runner) rather than not at all (a running job and an idle runner),
// which could send one job too many. A job enqueued after the runners were
// read is simply counted; the claim takes only what is still pending.
func (d *Dispatcher) snapshot(ctx context.Context) (core.CapacityInput, error) {
	groups, err := d.store.ListGroups(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	var open []string
	for _, g := range groups {
		if g.Enabled && !g.Paused && len(g.RunnerLabels) > 0 {
			open = append(open, g.ID)
		}
	}
	if len(open) == 0 {
		return core.CapacityInput{}, nil
	}
	active, err := d.store.ActiveJobs(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	queued, err := d.store.QueuedGitHubJobs(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	runners, err := d.store.OnlineRunners(ctx)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	idle := 0
	for _, r := range runners {
		if r.Idle() {
			idle++
		}
	}
	if idle == 0 {
		return core.CapacityInput{}, nil
	}
	pending, err := d.store.DispatchableCounts(ctx, open, idle)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	if !slices.ContainsFunc(open, func(id string) bool { return pending[id] > 0 }) {
		return core.CapacityInput{}, nil
	}
	runningJobs := 0
	for _, j := range active {
		if j.Status == core.StatusRunning {
			runningJobs++
		}
	}
	holding, err := d.holdingJobs(ctx, runners, runningJobs)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}
	done, err := d.runsDoneOnRunners(ctx, active, holding)
	if err != nil {
		return core.CapacityInput{}, fmt.Errorf("snapshot: %w", err)
	}

	running, inFlight := map[string]int{}, map[string]int{}
	var mismatched map[int64]bool // nil in the usual case: no flagged run
	now := d.now()
	for _, j := range active {
		switch {
		case j.Status == core.StatusRunning && holding[j.ID]:
			running[j.GroupID]++
		case j.LabelMismatch && j.Status != core.StatusRunning:
			// Its run asks for labels no runner of its group has, so no
			// runner of the group will take it: it holds none, at once
			// rather than after start_timeout. Its GitHub jobs still
			// waiting count below as any other queued demand, so a runner
			// elsewhere that GitHub could give them stays reserved
			// (docs/ARCHITECTURE.md, "Dispatch protocol").
			if mismatched == nil {
				mismatched = map[int64]bool{}
			}
			mismatched[j.ID] = true
		case done[j.ID]:
			// Every job of its run finished on its runner; only the run's
			// own completed event is still on its way. The runner the
			// job used is idle and may take the next job now: waiting
			// for workflow_run completed would put a second webhook (on
			// GitHub often seconds later) between runner idle and the
			// next dispatch.
		case d.timedOut(j.Status, j.TriggeredAt, now):
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
	in := core.CapacityInput{Runners: runners}
	for _, g := range groups {
		in.Groups = append(in.Groups, core.GroupLoad{
			Group: g, Pending: pending[g.ID], InFlight: inFlight[g.ID], Running: running[g.ID],
		})
	}
	for _, q := range queued {
		// Jobs of our own runs are already counted as in-flight (or hold
		// a runner as running), except a flagged run's. A run dispatched
		// without run details is not linked yet and counts twice until
		// correlated: cautious.
		if q.JobID != 0 && !mismatched[q.JobID] {
			continue
		}
		in.Queued = append(in.Queued, core.QueuedDemand{Labels: q.Labels})
	}
	return in, nil
}

// jobsHoldingRunners is holdingJobs for the reconciler's full records.
func (d *Dispatcher) jobsHoldingRunners(ctx context.Context, runners []store.RunnerRecord, active []core.Job) (map[int64]bool, error) {
	runningJobs := 0
	for _, j := range active {
		if j.Status == core.StatusRunning {
			runningJobs++
		}
	}
	return d.holdingJobs(ctx, store.CoreRunners(runners), runningJobs)
}

// holdingJobs returns our running jobs that a busy runner is known to be
// running, found through the runner's current GitHub job. Links of GitHub
// jobs to our jobs never change once set, so they are cached and a steady
// fleet costs no query; GitHub jobs of other workloads are looked up again
// only while one of our running jobs is still unaccounted for.
func (d *Dispatcher) holdingJobs(ctx context.Context, runners []core.Runner, runningJobs int) (map[int64]bool, error) {
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

// runsDoneOnRunners returns our running jobs that hold no busy runner and
// whose run's GitHub jobs are all known and completed. A run with a job
// still queued or waiting (a later job of a multi-job workflow) is not done:
// it keeps its runner promised.
func (d *Dispatcher) runsDoneOnRunners(ctx context.Context, active []store.ActiveJob, holding map[int64]bool) (map[int64]bool, error) {
	done := map[int64]bool{}
	for _, j := range active {
		if j.Status != core.StatusRunning || holding[j.ID] || j.RunID == 0 {
			continue
		}
		gjs, err := d.store.GitHubJobsOfRun(ctx, j.RunID)
		if err != nil {
			return nil, err
		}
		done[j.ID] = len(gjs) > 0 && !slices.ContainsFunc(gjs, func(g store.GitHubJob) bool {
			return g.Status != store.GitHubJobCompleted
		})
	}
	return done, nil
}

// startTimedOut reports whether a triggered job has waited longer than
// StartTimeout for its run to start.
func (d *Dispatcher) startTimedOut(j core.Job, now time.Time) bool {
	return d.timedOut(j.Status, j.TriggeredAt, now)
}

func (d *Dispatcher) timedOut(status core.JobStatus, triggeredAt *time.Time, now time.Time) bool {
	return status == core.StatusTriggered && triggeredAt != nil && now.Sub(*triggeredAt) > d.opts.StartTimeout
}

func (d *Dispatcher) isFlagged(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flagged[id]
}

func (d *Dispatcher) killed(point string) bool {
	return d.opts.KillPoint != nil && d.opts.KillPoint(point)
}
