package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
)

// suspendedBackoff is how long a job waits when the App's installation on
// its repository is suspended: an owner lifts a suspension by hand, so
// asking every few seconds would only burn API calls.
const suspendedBackoff = 10 * time.Minute

// notInstalledBackoff is how long a job waits when the App is not installed
// on its repository. Installing it is done by hand too; the installation
// webhook (created, unsuspend, repositories added) ends the wait at once,
// so this is only the fallback when that delivery is lost.
const notInstalledBackoff = 5 * time.Minute

// waitingPrefix starts the error a job carries while it waits for an
// installation; the API and the dashboard's job card show it.
const waitingPrefix = "waiting for the App's installation: "

// afterDispatchTimeout bounds the store writes that record a dispatch's
// result. They run even when the pass's context ends (shutdown) because a
// run that exists on GitHub should be recorded now rather than adopted by
// the reconciler later.
const afterDispatchTimeout = 10 * time.Second

// dispatchJob sends one claimed job (step 2) and records the result
// (step 3). The returned outcome is one of the Outcome* constants.
func (d *Dispatcher) dispatchJob(ctx context.Context, j core.Job, wokeAt time.Time) (string, error) {
	log := d.log.With().Int64("job", j.ID).Str("group", j.GroupID).Str("attempt", j.AttemptID).
		Str("repo", j.Owner+"/"+j.Repo).Str("workflow", j.WorkflowID).Logger()
	if d.killed(KillAfterClaim) {
		return "", ErrKilled
	}
	in, err := d.gh.InstallationForRepo(ctx, j.Owner, j.Repo)
	if _, _, ok := unusable(j, in, err); ok {
		// The cached answer may predate the installation webhook: another
		// replica may have received it and emptied only its own cache.
		// Before a job waits minutes, ask GitHub.
		d.gh.ForgetInstallationFor(j.Owner, j.Repo)
		in, err = d.gh.InstallationForRepo(ctx, j.Owner, j.Repo)
	}
	if why, wait, ok := unusable(j, in, err); ok {
		return d.waitInstallation(ctx, log, j, why, wait)
	}
	if err != nil {
		return d.notSent(ctx, log, j, fmt.Errorf("find the App's installation for %s/%s: %w", j.Owner, j.Repo, err), 0)
	}
	res, err := d.gh.Dispatch(ctx, gh.DispatchRequest{
		InstallationID: in.ID, Owner: j.Owner, Repo: j.Repo, WorkflowID: j.WorkflowID, Ref: j.Ref,
		Inputs: dispatchInputs(j),
	})
	if err != nil {
		if gh.MaybeApplied(err) || ctx.Err() != nil {
			// The run may exist. Dispatching again could run the job twice,
			// so the job stays in dispatching and the reconciler looks for
			// its run (adopt it, or after the grace period back to pending).
			log.Warn().Err(err).Msg("dispatch outcome unknown; the reconciler will look for its run")
			d.metrics.Dispatched(j.GroupID, OutcomeAmbiguous)
			d.requestRepair(d.opts.DispatchingGrace + time.Second)
			if hasJobIDInput(j) {
				// Its run, if any, carries the job id as run-name and can
				// be adopted as soon as the runs listing shows it (which
				// may lag the dispatch by a few seconds: look twice).
				d.requestRepair(d.opts.CorrelateDelay)
				d.requestRepair(3 * d.opts.CorrelateDelay)
			}
			return OutcomeAmbiguous, nil
		}
		if gh.IsPermanent(err) {
			if why, wait, gone := d.installationGone(ctx, j); gone {
				return d.waitInstallation(ctx, log, j, why, wait)
			}
		}
		return d.notSent(ctx, log, j, err, 0)
	}
	if !wokeAt.IsZero() {
		d.metrics.DispatchLatency(j.GroupID, d.now().Sub(wokeAt))
	}
	if d.killed(KillAfterDispatch) {
		return "", ErrKilled
	}

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterDispatchTimeout)
	defer cancel()
	// Without run details (204, or GitHub Enterprise Server before 3.20)
	// the job is triggered without a run id: the dispatch surely happened,
	// so it must never go back to pending. workflow_run webhooks or the
	// reconciler's runs listing attach the run.
	out, err := d.queue.Transition(wctx, store.TransitionRequest{
		JobID: j.ID, From: core.StatusDispatching, To: core.StatusTriggered, AttemptID: j.AttemptID,
		RunID: res.RunID, RunURL: res.HTMLURL,
	})
	d.metrics.Dispatched(j.GroupID, OutcomeTriggered)
	if err != nil {
		cur, ok := d.recordedMeanwhile(wctx, log, j, res, err)
		if !ok {
			return OutcomeTriggered, nil
		}
		out.Job = cur
	} else {
		log.Info().Int64("run", res.RunID).Bool("run_details", res.HasRunDetails).Msg("job dispatched")
	}
	if out.Job.RunID == 0 {
		d.requestRepair(d.opts.CorrelateDelay)
	} else {
		d.linkRun(wctx, out.Job.RunID, j.ID)
	}
	if out.Job.CancelRequested && out.Job.RunID != 0 && !out.Job.Status.Terminal() {
		// Cancelled while it was being dispatched: nobody could cancel the
		// run before its id was known.
		d.cancelRun(wctx, log, out.Job, in.ID)
	}
	if d.killed(KillAfterTrigger) {
		return "", ErrKilled
	}
	return OutcomeTriggered, nil
}

// recordedMeanwhile explains a lost dispatching -> triggered step. GitHub
// sends workflow_run requested within milliseconds of the dispatch, and the
// handlers correlate it and move the job to triggered with its run (or on to
// running), often before GitHub's answer to the dispatch reaches us. That is
// the dispatch succeeding, not an anomaly: ok is true and cur is the job as
// stored. Anything else (another run attached, the job moved back) is
// logged as a warning; the dispatch still counts once.
func (d *Dispatcher) recordedMeanwhile(ctx context.Context, log zerolog.Logger, j core.Job, res gh.DispatchResult, cause error) (core.Job, bool) {
	cur, err := d.store.GetJob(ctx, j.ID)
	if err != nil {
		log.Warn().Err(cause).AnErr("read_error", err).Int64("run", res.RunID).Msg("dispatched, but the job changed meanwhile")
		return core.Job{}, false
	}
	moved := cur.Status != core.StatusDispatching && cur.Status != core.StatusPending && cur.AttemptID == j.AttemptID
	switch {
	case moved && res.RunID != 0 && cur.RunID == res.RunID:
		log.Debug().Int64("run", res.RunID).Str("status", string(cur.Status)).Msg("dispatched; a webhook recorded the run first")
		return cur, true
	case moved && res.RunID == 0 && cur.RunID != 0:
		// No run details: the run a webhook correlated is the only one we
		// can know of.
		log.Debug().Int64("run", cur.RunID).Str("status", string(cur.Status)).Msg("dispatched without run details; a webhook correlated the run first")
		return cur, true
	}
	log.Warn().Err(cause).Int64("run", res.RunID).Int64("job_run", cur.RunID).Str("status", string(cur.Status)).
		Msg("dispatched, but the job changed meanwhile (another run, or moved back)")
	return core.Job{}, false
}

// notSent handles a dispatch that certainly did not reach GitHub or was
// refused: a permanent error fails the job with the reason (auto-requeue
// never copies a job that got no run, so a 404 cannot loop), anything else
// returns it to pending with back-off honouring GitHub's Retry-After.
func (d *Dispatcher) notSent(ctx context.Context, log zerolog.Logger, j core.Job, cause error, minWait time.Duration) (string, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterDispatchTimeout)
	defer cancel()
	if gh.IsPermanent(cause) {
		_, err := d.queue.Transition(wctx, store.TransitionRequest{
			JobID: j.ID, From: core.StatusDispatching, To: core.StatusFailed, AttemptID: j.AttemptID,
			Error: "dispatch refused by GitHub: " + cause.Error(),
		})
		if err != nil {
			log.Error().Err(err).AnErr("cause", cause).Msg("record permanent dispatch failure")
		} else {
			log.Warn().Err(cause).Msg("dispatch failed permanently; job failed")
		}
		d.metrics.Dispatched(j.GroupID, OutcomeFailed)
		return OutcomeFailed, nil
	}
	// GitHub's own Retry-After is taken as given (a 3 s block waits 3 s,
	// not our 30 s back-off); only errors that name no wait back off.
	wait := max(d.opts.TransientBackoff, minWait)
	if ra := gh.RetryAfter(cause); ra > 0 {
		wait = max(ra, minWait)
	}
	after := d.now().Add(wait)
	_, err := d.queue.Transition(wctx, store.TransitionRequest{
		JobID: j.ID, From: core.StatusDispatching, To: core.StatusPending, AttemptID: j.AttemptID,
		DispatchAfter: &after,
	})
	if err != nil {
		log.Error().Err(err).AnErr("cause", cause).Msg("return job to pending")
	} else {
		log.Warn().Err(cause).Dur("backoff", wait).Msg("dispatch not sent; job back to pending")
		time.AfterFunc(wait, func() { d.Wake("back-off over") })
	}
	d.metrics.Dispatched(j.GroupID, OutcomeRetry)
	return OutcomeRetry, nil
}

// dispatchInputs are the job's inputs, with the job id filled into
// JobIDInput when the job declares that input.
func dispatchInputs(j core.Job) map[string]string {
	in := maps.Clone(j.Inputs)
	if _, ok := in[JobIDInput]; ok {
		in[JobIDInput] = strconv.FormatInt(j.ID, 10)
	}
	return in
}

// cancelRun cancels the run of a job whose cancel was requested. A run
// that already completed is fine: its completion will be recorded.
func (d *Dispatcher) cancelRun(ctx context.Context, log zerolog.Logger, j core.Job, installationID int64) {
	err := d.gh.CancelRun(ctx, installationID, j.Owner, j.Repo, j.RunID)
	switch {
	case err == nil:
		log.Info().Int64("run", j.RunID).Msg("run cancel sent")
	case errors.Is(err, gh.ErrRunCompleted):
		log.Info().Int64("run", j.RunID).Msg("run already completed; nothing to cancel")
	default:
		log.Warn().Err(err).Int64("run", j.RunID).Msg("cancel run")
	}
}

// linkRun marks the GitHub jobs of runID as ours. GitHub sends the run's
// workflow_job queued within milliseconds of the dispatch, often before the
// run id is recorded; unlinked, that job would count as foreign demand on
// top of our in-flight job and hold a second runner back. Its delivery
// found no job of ours and so checked no labels: that check is made here.
func (d *Dispatcher) linkRun(ctx context.Context, runID, jobID int64) {
	n, err := d.store.LinkGitHubRunToJob(ctx, runID, jobID)
	if err != nil {
		d.log.Warn().Err(err).Int64("job", jobID).Int64("run", runID).Msg("link GitHub jobs of the run")
		return
	}
	if n > 0 {
		d.checkLabelsOfRun(ctx, runID, jobID)
	}
}

// checkLabelsOfRun has the queue compare the runs-on labels of the run's
// still-queued GitHub jobs with the runners of the job's group, as a
// workflow_job queued delivery does (docs/ARCHITECTURE.md, "Runner state
// from webhooks"). A newly flagged run holds no runner any more, so the
// dispatcher is woken.
func (d *Dispatcher) checkLabelsOfRun(ctx context.Context, runID, jobID int64) {
	log := d.log.With().Int64("job", jobID).Int64("run", runID).Logger()
	j, err := d.store.GetJob(ctx, jobID)
	if err != nil {
		log.Warn().Err(err).Msg("check runs-on labels of the run")
		return
	}
	gjs, err := d.store.GitHubJobsOfRun(ctx, runID)
	if err != nil {
		log.Warn().Err(err).Msg("check runs-on labels of the run")
		return
	}
	for _, gj := range gjs {
		if rank, _ := gj.Status.Rank(); rank != 0 {
			continue // started or done: its runner is known
		}
		c, err := d.queue.CheckLabels(ctx, j, gj.Labels)
		if err != nil {
			log.Warn().Err(err).Int64("github_job", gj.ID).Msg("check runs-on labels of the run")
			return
		}
		if c.Outcome.Changed() {
			j = c.Outcome.Job
		}
		if len(c.Missing) == 0 {
			continue
		}
		log.Warn().Str("group", j.GroupID).Str("template", j.TemplateID).Strs("runs_on", gj.Labels).
			Strs("missing", c.Missing).Strs("group_labels", c.GroupLabels).
			Msg("label mismatch: the run asks for labels no runner of its group has")
		d.metrics.LabelMismatch(j.GroupID, j.TemplateID)
		if c.Outcome.Changed() && !j.Status.Terminal() {
			d.Wake("label mismatch: run holds no runner")
		}
	}
}

// installationGone asks GitHub again, after a dispatch was refused, whether
// the App is still installed on the job's repository. The installation
// looked up before the dispatch may have been cached from before an
// uninstall or suspension whose webhook has not arrived (or was lost), and
// its token refused (404, 403); the cached entry is dropped so this lookup
// asks GitHub. gone is true when the refusal was the App's absence, not the
// job's own fault.
func (d *Dispatcher) installationGone(ctx context.Context, j core.Job) (why string, wait time.Duration, gone bool) {
	d.gh.ForgetInstallationFor(j.Owner, j.Repo)
	in, err := d.gh.InstallationForRepo(ctx, j.Owner, j.Repo)
	return unusable(j, in, err)
}

// unusable says why the App cannot dispatch j, given the result of looking
// up its repository's installation, and how long j should wait: ok is false
// when the installation is usable or the lookup failed for another reason.
func unusable(j core.Job, in gh.Installation, err error) (why string, wait time.Duration, ok bool) {
	switch {
	case errors.Is(err, gh.ErrNotInstalled):
		return fmt.Sprintf("the App is not installed on %s/%s (install it, or add the repository to its selection)",
			j.Owner, j.Repo), notInstalledBackoff, true
	case err == nil && in.Suspended:
		return fmt.Sprintf("the App's installation %d on %s is suspended", in.ID, in.Account), suspendedBackoff, true
	}
	return "", 0, false
}

// waitInstallation returns a job that cannot be dispatched for want of a
// usable installation to pending, with the reason in its error and a long
// back-off: it is not the job's fault, so it must not fail, and polling
// GitHub every few seconds would not make an owner install the App sooner.
// The installation webhook clears the back-off and wakes the dispatcher
// (docs/ARCHITECTURE.md, "Event flow").
func (d *Dispatcher) waitInstallation(ctx context.Context, log zerolog.Logger, j core.Job, why string, wait time.Duration) (string, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterDispatchTimeout)
	defer cancel()
	after := d.now().Add(wait)
	_, err := d.queue.Transition(wctx, store.TransitionRequest{
		JobID: j.ID, From: core.StatusDispatching, To: core.StatusPending, AttemptID: j.AttemptID,
		DispatchAfter: &after,
		// The back-off is not part of the API's job, so the reason says it.
		Error: waitingPrefix + why + "; next try at " + after.UTC().Format(time.RFC3339) +
			", or as soon as an installation webhook says the App is usable",
	})
	if err != nil {
		log.Error().Err(err).Str("reason", why).Msg("return job to pending to wait for the installation")
	} else {
		log.Warn().Str("reason", why).Dur("backoff", wait).
			Msg("job waits for the App's installation; an installation webhook resumes it")
		time.AfterFunc(wait, func() { d.Wake("installation back-off over") })
	}
	d.metrics.Dispatched(j.GroupID, OutcomeWaiting)
	return OutcomeWaiting, nil
}
