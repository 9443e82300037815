package dispatcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
)

// ReconcileJobs repairs our active jobs from GitHub's side:
//   - a job in dispatching past DispatchingGrace (a crash or an ambiguous
//     answer between claim and trigger) adopts its run, or returns to
//     pending when GitHub has none;
//   - a triggered job without a run id (no run details) is correlated with
//     its run through the runs listing;
//   - a triggered or running job unchanged for OverdueAfter has its run
//     re-read, so a lost workflow_run webhook cannot leave it forever;
//   - a dispatching job carrying JobIDInput adopts its run, found by its
//     exact run-name, from CorrelateDelay after the attempt on;
//   - a triggered job past StartTimeout is flagged (it stopped holding
//     capacity in the pass already);
//   - a job whose cancel was requested gets its run cancelled again.
func (d *Dispatcher) ReconcileJobs(ctx context.Context) error {
	return d.reconcileJobs(ctx, false)
}

// reconcileJobs is ReconcileJobs. With afterListing (the runners were just
// re-listed) a triggered or running job with a run id that no stored runner
// is busy on has its run re-read at once: when its completion webhooks were
// lost, the listing shows its runner idle while the job would otherwise hold
// the runner's capacity until OverdueAfter. A job whose run merely has not
// started yet costs one GET and stays as it is.
func (d *Dispatcher) reconcileJobs(ctx context.Context, afterListing bool) error {
	d.reconcileMu.Lock()
	defer d.reconcileMu.Unlock()
	jobs, err := d.store.ListJobsByStatus(ctx, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
	if err != nil {
		return fmt.Errorf("reconcile jobs: %w", err)
	}
	var holding map[int64]bool
	if afterListing {
		if holding, err = d.heldJobs(ctx, jobs); err != nil {
			return fmt.Errorf("reconcile jobs: %w", err)
		}
	}
	// Oldest attempt first: when runs can only be told apart by time, the
	// earliest dispatch takes the earliest run.
	slices.SortFunc(jobs, func(a, b core.Job) int {
		return cmp.Or(sinceOr(a.DispatchingAt, a.CreatedAt).Compare(sinceOr(b.DispatchingAt, b.CreatedAt)), cmp.Compare(a.ID, b.ID))
	})
	now := d.now()
	r := &jobReconcile{d: d, installs: map[string]int64{}}
	var errs error
	flagged := map[int64]bool{}
	for _, j := range jobs {
		log := d.log.With().Int64("job", j.ID).Str("group", j.GroupID).Int64("run", j.RunID).Logger()
		var err error
		switch {
		case j.Status == core.StatusDispatching:
			age := now.Sub(sinceOr(j.DispatchingAt, j.UpdatedAt))
			switch {
			case age > d.opts.DispatchingGrace:
				err = r.resolveDispatching(ctx, log, j)
			case age >= d.opts.CorrelateDelay && hasJobIDInput(j):
				err = r.adoptTitled(ctx, log, j)
			}
		case j.RunID == 0:
			if now.Sub(sinceOr(j.TriggeredAt, j.UpdatedAt)) >= d.opts.CorrelateDelay {
				err = r.correlate(ctx, log, j)
			}
		case now.Sub(j.UpdatedAt) > d.opts.OverdueAfter:
			err = r.refresh(ctx, log, j)
		case holding != nil && !holding[j.ID]:
			err = r.refresh(ctx, log, j)
		}
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("job %d: %w", j.ID, err))
		}
		if d.startTimedOut(j, now) {
			flagged[j.ID] = true
			d.flagStartTimeout(ctx, log, j)
		} else if j.Status == core.StatusRunning && strings.HasPrefix(j.Error, startTimeoutError) {
			// It started after all: the flag no longer explains anything.
			d.setJobError(ctx, log, j, "")
		}
		if j.CancelRequested && j.RunID != 0 && j.Status != core.StatusDispatching {
			if inst, err := r.installation(ctx, j); err == nil {
				d.cancelRun(ctx, log, j, inst)
			}
		}
	}
	d.mu.Lock()
	for id := range d.flagged {
		if !flagged[id] {
			delete(d.flagged, id) // ended or started: forget it
		}
	}
	d.mu.Unlock()
	if r.changed {
		d.Wake("jobs reconciled")
	}
	if r.runMovedOn {
		d.noteLostWebhooks("a re-read run had changed without its webhooks")
	}
	return errs
}

// startTimeoutError starts the error a job carries while its run has not
// started within StartTimeout.
const startTimeoutError = "run did not start within "

// flagStartTimeout reports, once per job, a run that never started, and
// records it on the job (once, even across restarts) so the API and the UI
// say why the job waits.
func (d *Dispatcher) flagStartTimeout(ctx context.Context, log zerolog.Logger, j core.Job) {
	if msg := startTimeoutError + d.opts.StartTimeout.String(); j.Error != msg {
		d.setJobError(ctx, log, j, msg)
	}
	d.mu.Lock()
	seen := d.flagged[j.ID]
	d.flagged[j.ID] = true
	d.mu.Unlock()
	if seen {
		return
	}
	d.metrics.StartTimedOut(j.GroupID)
	log.Warn().Dur("start_timeout", d.opts.StartTimeout).Time("triggered_at", sinceOr(j.TriggeredAt, j.UpdatedAt)).
		Msg("run has not started within start_timeout (does its runs-on match the group's runners?); it no longer holds the group's capacity")
}

// setJobError records msg on an active job and announces the change. A job
// that ended meanwhile keeps its own error.
func (d *Dispatcher) setJobError(ctx context.Context, log zerolog.Logger, j core.Job, msg string) {
	_, err := d.queue.SetError(ctx, j.ID, msg)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		log.Warn().Err(err).Str("error", msg).Msg("record the job's error")
	}
}

// jobReconcile caches what one ReconcileJobs needs from GitHub.
type jobReconcile struct {
	d        *Dispatcher
	bot      string
	installs map[string]int64
	changed  bool
	// runMovedOn: a re-read run changed its job's state (refresh).
	runMovedOn bool
}

func (r *jobReconcile) installation(ctx context.Context, j core.Job) (int64, error) {
	key := j.Owner + "/" + j.Repo
	if id, ok := r.installs[key]; ok {
		return id, nil
	}
	in, err := r.d.gh.InstallationForRepo(ctx, j.Owner, j.Repo)
	if err != nil {
		return 0, fmt.Errorf("find installation for %s: %w", key, err)
	}
	r.installs[key] = in.ID
	return in.ID, nil
}

func (r *jobReconcile) botLogin(ctx context.Context) (string, error) {
	if r.bot == "" {
		b, err := r.d.gh.BotLogin(ctx)
		if err != nil {
			return "", fmt.Errorf("read the App's bot login: %w", err)
		}
		r.bot = b
	}
	return r.bot, nil
}

// resolveDispatching adopts the run of a job left in dispatching or, when
// GitHub has none, returns the job to pending: the dispatch never happened.
func (r *jobReconcile) resolveDispatching(ctx context.Context, log zerolog.Logger, j core.Job) error {
	run, ok, err := r.findRun(ctx, j)
	if err != nil {
		return err
	}
	if ok {
		log.Info().Int64("run", run.ID).Msg("adopting the run of an interrupted dispatch")
		return r.apply(ctx, log, j, run)
	}
	_, err = r.d.queue.Transition(ctx, store.TransitionRequest{
		JobID: j.ID, From: core.StatusDispatching, To: core.StatusPending, AttemptID: j.AttemptID,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // the dispatch finished meanwhile
	}
	if err != nil {
		return fmt.Errorf("return interrupted dispatch to pending: %w", err)
	}
	r.changed = true
	log.Info().Str("attempt", j.AttemptID).Msg("interrupted dispatch has no run on GitHub; job back to pending")
	return nil
}

// adoptTitled adopts the run of a job still in dispatching (an ambiguous
// 5xx, a crash) before DispatchingGrace, but only a run whose display_title
// is the job's id: that cannot be another job's run or a manual one. A job
// whose run is not found stays in dispatching until the grace period ends,
// since the run may still appear in the listing.
func (r *jobReconcile) adoptTitled(ctx context.Context, log zerolog.Logger, j core.Job) error {
	run, ok, err := r.findRun(ctx, j)
	if err != nil || !ok || run.DisplayTitle != strconv.FormatInt(j.ID, 10) {
		return err
	}
	log.Info().Int64("run", run.ID).Msg("adopting the run titled with the job id of a dispatch whose outcome was unknown")
	return r.apply(ctx, log, j, run)
}

// correlate finds the run of a job dispatched without run details. A run
// that has not started yet is attached to the triggered job at once
// (queue.Service.AttachRun), so its workflow_job events find the job and its queued
// jobs stop counting as foreign demand, instead of waiting for it to run.
func (r *jobReconcile) correlate(ctx context.Context, log zerolog.Logger, j core.Job) error {
	run, ok, err := r.findRun(ctx, j)
	if err != nil || !ok {
		return err
	}
	log.Info().Int64("run", run.ID).Str("status", run.Status).Msg("correlated run of a dispatch without run details")
	return r.apply(ctx, log, j, run)
}

// refresh re-reads the run of a triggered or running job whose events are
// overdue.
func (r *jobReconcile) refresh(ctx context.Context, log zerolog.Logger, j core.Job) error {
	inst, err := r.installation(ctx, j)
	if err != nil {
		return err
	}
	run, err := r.d.gh.GetRun(ctx, inst, j.Owner, j.Repo, j.RunID)
	var ae *gh.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		// The run was deleted (or the repository is gone): nothing will
		// ever end the job, so end it here, with the reason.
		_, err = r.d.queue.Transition(ctx, store.TransitionRequest{
			JobID: j.ID, From: j.Status, To: core.StatusFailed,
			Error: fmt.Sprintf("run %d no longer exists on GitHub", j.RunID),
		})
		if err == nil {
			r.changed = true
		}
		return ignoreConflict(err)
	}
	if err != nil {
		return fmt.Errorf("re-read run %d: %w", j.RunID, err)
	}
	// A run that moved on without us hearing of it is what lost webhooks
	// leave behind: it makes the next delivery scan due (see redeliver).
	before := r.changed
	r.changed = false
	err = r.apply(ctx, log, j, run)
	r.runMovedOn = r.runMovedOn || r.changed
	r.changed = r.changed || before
	return err
}

// apply moves a job to where its run is: terminal (the conclusion mapped
// by core.StatusForConclusion; an unfamiliar one fails the job), running,
// or triggered. Adopting a run records its id.
func (r *jobReconcile) apply(ctx context.Context, log zerolog.Logger, j core.Job, run gh.Run) error {
	req := store.TransitionRequest{JobID: j.ID, From: j.Status, RunID: run.ID, RunURL: run.HTMLURL}
	if j.Status == core.StatusDispatching {
		req.AttemptID = j.AttemptID
	}
	switch run.Status {
	case "completed":
		req.To = core.StatusForConclusion(run.Conclusion)
		req.Conclusion = run.Conclusion
	case "in_progress":
		req.To = core.StatusRunning
	default: // requested, queued, waiting, pending
		req.To = core.StatusTriggered
	}
	if req.To == core.StatusTriggered && j.Status == core.StatusTriggered && j.RunID == 0 {
		return r.attach(ctx, log, j, run)
	}
	if req.To == j.Status || (req.To == core.StatusTriggered && j.Status != core.StatusDispatching) {
		return nil // nothing new
	}
	out, err := r.d.queue.Transition(ctx, req)
	if errors.Is(err, store.ErrDuplicate) {
		log.Warn().Int64("run", run.ID).Msg("run already belongs to another job; not adopted")
		return nil
	}
	if err != nil {
		return ignoreConflict(fmt.Errorf("apply run %d (%s %s): %w", run.ID, run.Status, run.Conclusion, err))
	}
	r.changed = true
	log.Info().Int64("run", run.ID).Str("status", string(out.Job.Status)).Str("conclusion", run.Conclusion).Msg("job updated from its run")
	if j.RunID == 0 {
		r.d.linkRun(ctx, run.ID, j.ID)
	}
	if run.Status == "completed" {
		// Its queued jobs' completed events may be lost with the rest; left
		// queued they would reduce capacity forever.
		if _, err := r.d.store.CompleteQueuedJobsOfRun(ctx, run.ID, run.Conclusion); err != nil {
			log.Warn().Err(err).Int64("run", run.ID).Msg("complete queued GitHub jobs of the run")
		}
	}
	if out.Job.CancelRequested && !out.Job.Status.Terminal() {
		if inst, err := r.installation(ctx, out.Job); err == nil {
			r.d.cancelRun(ctx, log, out.Job, inst)
		}
	}
	return nil
}

// attach records the not yet started run of a triggered job that was
// dispatched without run details.
func (r *jobReconcile) attach(ctx context.Context, log zerolog.Logger, j core.Job, run gh.Run) error {
	got, err := r.d.queue.AttachRun(ctx, j.ID, run.ID, run.HTMLURL)
	if errors.Is(err, store.ErrDuplicate) {
		log.Warn().Int64("run", run.ID).Msg("run already belongs to another job; not attached")
		return nil
	}
	if err != nil {
		return ignoreConflict(fmt.Errorf("attach run %d (%s): %w", run.ID, run.Status, err))
	}
	r.changed = true // its queued jobs are ours now, not foreign demand
	log.Info().Int64("run", run.ID).Str("status", run.Status).Msg("run attached to its triggered job")
	r.d.linkRun(ctx, run.ID, j.ID)
	if got.CancelRequested {
		if inst, err := r.installation(ctx, got); err == nil {
			r.d.cancelRun(ctx, log, got, inst)
		}
	}
	return nil
}

// ignoreConflict drops store.ErrConflict: the job moved on meanwhile
// (usually a webhook got there first), which is not a failure.
func ignoreConflict(err error) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, core.ErrTransition) {
		return nil
	}
	return err
}

// runMatchSlack allows for clocks: GitHub's created_at of a run may read a
// little earlier than our dispatching_at.
const runMatchSlack = 30 * time.Second

// hasJobIDInput reports whether a dispatch of j carries JobIDInput, so its
// run can be recognised by its run-name.
func hasJobIDInput(j core.Job) bool {
	_, ok := j.Inputs[JobIDInput]
	return ok
}

// heldJobs returns the active jobs a stored runner is busy on.
func (d *Dispatcher) heldJobs(ctx context.Context, jobs []core.Job) (map[int64]bool, error) {
	runners, err := d.store.ListRunners(ctx, store.RunnerFilter{})
	if err != nil {
		return nil, fmt.Errorf("list runners: %w", err)
	}
	return d.jobsHoldingRunners(ctx, runners, jobs)
}
