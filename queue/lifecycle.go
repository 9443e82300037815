package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// Outcome is a job after a change, and the copy auto-requeue put at the
// bottom of its queue, if any. It also remembers what Emit must announce,
// so a caller applying several changes on one transaction announces each
// the way the change it came from requires.
type Outcome struct {
	Job      core.Job
	Requeued *core.Job
	announce announcement
}

// Changed reports whether the change behind the Outcome happened (Emit
// announces something); a ...Tx method that found nothing to do returns the
// job as it was, unchanged.
func (o Outcome) Changed() bool { return o.announce != announceNothing }

// announcement is what Emit tells the listeners about an Outcome.
type announcement int

const (
	announceNothing    announcement = iota // nothing changed
	announceJob                            // the job's fields changed, not its place in the queue
	announceTransition                     // a state step: the job, its requeued copy, the queue
	announceFinish                         // a run's conclusion: as a step, and logged
)

// raceRetries bounds how often an operation that reads a job's status and
// then updates it conditionally starts over after losing a race (a webhook
// moved the job from triggered to running in between).
const raceRetries = 3

// Claim moves up to n of a group's next dispatchable jobs to dispatching,
// each with a fresh attempt id. Nothing is claimed from a paused or disabled
// group.
func (s *Service) Claim(ctx context.Context, groupID string, n int) ([]core.Job, error) {
	jobs, err := s.store.ClaimNextPending(ctx, groupID, n, newAttemptID)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		s.events.JobChanged(j)
	}
	if len(jobs) > 0 {
		s.events.QueueChanged(groupID)
	}
	return jobs, nil
}

// Transition applies one state-machine step (see store.Transition) and, when
// the job reaches a terminal state and core.ShouldRequeue says so, puts a
// copy at the bottom of its queue in the same transaction.
//
// A job someone cancelled while it was dispatching that comes back to
// pending (the dispatch failed transiently) is cancelled instead: otherwise
// the user's cancel would be forgotten and the job dispatched on the next
// pass.
func (s *Service) Transition(ctx context.Context, req store.TransitionRequest) (Outcome, error) {
	var out Outcome
	err := s.store.InTx(ctx, func(q *store.Q) error {
		var err error
		out, err = s.transitionTx(ctx, q, req)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	s.Emit(out)
	return out, nil
}

// transitionTx is Transition's work on the caller's transaction, without
// the events.
func (s *Service) transitionTx(ctx context.Context, q *store.Q, req store.TransitionRequest) (Outcome, error) {
	j, err := q.Transition(ctx, req)
	if err != nil {
		return Outcome{}, err
	}
	if j.Status == core.StatusPending && j.CancelRequested {
		j, err = q.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusPending, To: core.StatusCancelled})
		if err != nil {
			return Outcome{}, err
		}
	}
	out := Outcome{Job: j, announce: announceTransition}
	out.Requeued, err = s.requeue(ctx, q, j)
	if err != nil {
		return Outcome{}, err
	}
	return out, nil
}

func (s *Service) emit(out Outcome) {
	s.events.JobChanged(out.Job)
	if out.Requeued != nil {
		s.events.JobCreated(*out.Requeued)
	}
	// Any status change can change what the dispatcher may do next (a
	// finished job frees capacity), so the queue always counts as changed.
	s.events.QueueChanged(out.Job.GroupID)
}

// requeue inserts the auto-requeue copy of a finished job, if it gets one.
func (s *Service) requeue(ctx context.Context, q *store.Q, j core.Job) (*core.Job, error) {
	if !core.ShouldRequeue(j) {
		return nil, nil
	}
	g, err := q.GetGroup(ctx, j.GroupID)
	if err != nil {
		return nil, err
	}
	if !g.Enabled {
		s.log.Info().Int64("job", j.ID).Str("group", g.ID).Msg("not requeued: group is disabled")
		return nil, nil
	}
	cp, err := q.InsertJob(ctx, core.Job{
		GroupID: j.GroupID, TemplateID: j.TemplateID, Name: j.Name, Owner: j.Owner, Repo: j.Repo,
		WorkflowID: j.WorkflowID, Ref: j.Ref, Inputs: j.Inputs, Labels: j.Labels,
		AutoRequeue: true, RequeueLimit: j.RequeueLimit, RequeueCount: j.RequeueCount + 1,
		Source: j.Source, SourceURL: j.SourceURL, CreatedBy: j.CreatedBy,
	}, store.Placement{Where: store.Bottom})
	if err != nil {
		return nil, fmt.Errorf("requeue job %d: %w", j.ID, err)
	}
	s.log.Info().Int64("job", j.ID).Int64("requeued_as", cp.ID).Str("group", j.GroupID).
		Int("requeue_count", cp.RequeueCount).Int("requeue_limit", cp.RequeueLimit).Msg("job requeued")
	return &cp, nil
}

// Finish records a workflow run's conclusion on its job: the conclusion maps
// to a terminal status (core.StatusForConclusion; unknown ones fail the job),
// and auto-requeue applies. A job that already ended gets core.ErrTransition,
// which a caller handling a duplicate webhook treats as already applied.
func (s *Service) Finish(ctx context.Context, jobID int64, conclusion, runnerName string) (Outcome, error) {
	var out Outcome
	err := s.store.InTx(ctx, func(q *store.Q) error {
		var err error
		out, err = s.FinishTx(ctx, q, jobID, conclusion, runnerName)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	s.Emit(out)
	return out, nil
}

// Emit announces an Outcome that a ...Tx method returned, once the caller's
// transaction has committed (announcing earlier could tell the UI and the
// dispatcher about a change that is then rolled back). An unchanged
// Outcome announces nothing; a finished job is logged too.
func (s *Service) Emit(out Outcome) {
	switch out.announce {
	case announceNothing:
		return
	case announceJob:
		s.events.JobChanged(out.Job)
		return
	case announceTransition:
		s.emit(out)
		return
	case announceFinish:
	}
	l := s.log.Info().Int64("job", out.Job.ID).Str("group", out.Job.GroupID).Int64("run", out.Job.RunID).
		Str("conclusion", out.Job.Conclusion).Str("status", string(out.Job.Status))
	if out.Requeued != nil {
		l = l.Int64("requeued_as", out.Requeued.ID)
	}
	l.Msg("job finished")
	s.emit(out)
}

// FinishTx is Finish on the caller's transaction q, so that finishing a job
// commits or rolls back together with whatever else the caller applies (a
// webhook delivery and its record). It announces nothing: the caller passes
// the Outcome to Emit after its commit, and drops it after a rollback.
func (s *Service) FinishTx(ctx context.Context, q *store.Q, jobID int64, conclusion, runnerName string) (Outcome, error) {
	if conclusion == "" {
		return Outcome{}, invalid("conclusion", "is required")
	}
	to := core.StatusForConclusion(conclusion)
	var lastErr error
	for range raceRetries {
		j, err := q.GetJob(ctx, jobID)
		if err != nil {
			return Outcome{}, fmt.Errorf("finish job %d: %w", jobID, err)
		}
		if j.Status == core.StatusPending {
			return Outcome{}, fmt.Errorf("finish job %d: it was never dispatched: %w", jobID, core.ErrTransition)
		}
		out, err := s.transitionTx(ctx, q, store.TransitionRequest{
			JobID: jobID, From: j.Status, To: to, Conclusion: conclusion, RunnerName: runnerName,
		})
		if err == nil {
			out.announce = announceFinish
			return out, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return Outcome{}, fmt.Errorf("finish job %d: %w", jobID, err)
		}
		// Another writer moved the job between our read and the update
		// (PostgreSQL under read committed); read it again.
		lastErr = err
	}
	return Outcome{}, fmt.Errorf("finish job %d: %w", jobID, lastErr)
}

// Cancel stops a job on behalf of actor:
//   - pending: withdrawn at once (cancelled, never requeued);
//   - dispatching, or triggered without a known run: marked cancel_requested;
//     whoever learns the run (dispatcher, reconciler) cancels it on GitHub;
//   - triggered or running: the run is cancelled on GitHub and the job marked
//     cancel_requested; it becomes cancelled only when GitHub confirms (a
//     later Finish with conclusion "cancelled"), because GitHub may still
//     finish the run with another conclusion.
//
// Cancelling a finished job is core.ErrTransition.
func (s *Service) Cancel(ctx context.Context, jobID int64, actor string) (core.Job, error) {
	var lastErr error
	for range raceRetries {
		j, err := s.store.GetJob(ctx, jobID)
		if err != nil {
			return core.Job{}, fmt.Errorf("cancel job %d: %w", jobID, err)
		}
		logDone := func(msg string) {
			s.log.Info().Int64("job", jobID).Str("group", j.GroupID).Str("actor", actor).
				Str("status", string(j.Status)).Int64("run", j.RunID).Msg(msg)
		}
		switch {
		case j.Status.Terminal():
			return core.Job{}, fmt.Errorf("cancel job %d: it already ended (%s): %w", jobID, j.Status, core.ErrTransition)
		case j.Status == core.StatusPending:
			out, err := s.Transition(ctx, store.TransitionRequest{JobID: jobID, From: core.StatusPending, To: core.StatusCancelled})
			if err == nil {
				logDone("pending job withdrawn")
				return out.Job, nil
			}
			lastErr = err
		default:
			sent := false
			if hasLiveRun(j) {
				if err := s.cancelRun(ctx, j); err != nil {
					return core.Job{}, err
				}
				sent = true
			}
			out, err := s.store.SetCancelRequested(ctx, jobID)
			if err == nil {
				// The dispatcher may have recorded the run between our read
				// and the flag, after checking the flag itself: then nobody
				// else will send the cancel.
				if !sent && hasLiveRun(out) {
					if err := s.cancelRun(ctx, out); err != nil {
						return core.Job{}, err
					}
				}
				logDone("cancel requested")
				s.events.JobChanged(out)
				return out, nil
			}
			lastErr = err
		}
		if !errors.Is(lastErr, store.ErrConflict) {
			return core.Job{}, fmt.Errorf("cancel job %d: %w", jobID, lastErr)
		}
	}
	return core.Job{}, fmt.Errorf("cancel job %d: %w", jobID, lastErr)
}

// hasLiveRun reports whether a job has a run on GitHub that a cancel can
// reach. A dispatching job's run is not known to be ours yet.
func hasLiveRun(j core.Job) bool {
	return j.RunID != 0 && (j.Status == core.StatusTriggered || j.Status == core.StatusRunning)
}

func (s *Service) cancelRun(ctx context.Context, j core.Job) error {
	if s.canceller == nil {
		return fmt.Errorf("cancel job %d: run %d is live but no GitHub canceller is configured", j.ID, j.RunID)
	}
	if err := s.canceller.CancelRun(ctx, j.Owner, j.Repo, j.RunID); err != nil {
		return fmt.Errorf("cancel job %d: cancel run %d of %s/%s: %w", j.ID, j.RunID, j.Owner, j.Repo, err)
	}
	return nil
}
