package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// The methods here record what GitHub tells about a job's run: the run
// itself, its progress to triggered and running, the runner that took it,
// a runs-on no runner serves, and why an active job waits. The dispatcher
// and the reconciler call the plain forms; a webhook delivery calls the
// ...Tx forms on its own transaction and passes each Outcome to Emit after
// its commit, as with FinishTx.

// AdvanceTx moves job (as the caller last read it) towards to, triggered or
// running, naming runnerName when it becomes running. News already had is
// tolerated: a job already there or past it is left alone (the Outcome
// carries it unchanged, Changed false), and a lost race (the dispatcher
// moved the job meanwhile) is read again.
func (s *Service) AdvanceTx(ctx context.Context, q *store.Q, job core.Job, to core.JobStatus, runnerName string) (Outcome, error) {
	if to != core.StatusTriggered && to != core.StatusRunning {
		return Outcome{}, fmt.Errorf("advance job %d to %s: only triggered or running: %w", job.ID, to, core.ErrTransition)
	}
	for range raceRetries {
		if core.CheckTransition(job.Status, to) != nil {
			return Outcome{Job: job}, nil
		}
		j, err := q.Transition(ctx, store.TransitionRequest{JobID: job.ID, From: job.Status, To: to, RunnerName: runnerName})
		if err == nil {
			return Outcome{Job: j, announce: announceJob}, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return Outcome{}, fmt.Errorf("advance job %d to %s: %w", job.ID, to, err)
		}
		if job, err = q.GetJob(ctx, job.ID); err != nil {
			return Outcome{}, fmt.Errorf("advance job %d to %s: %w", job.ID, to, err)
		}
	}
	return Outcome{}, fmt.Errorf("advance job %d to %s: %w", job.ID, to, store.ErrConflict)
}

// NameRunnerTx names the runner on job (as the caller last read it) when it
// is running without that name: GitHub sends the run's in_progress (no
// runner) before the job's in_progress (with the runner), so the step to
// running usually happened without a name. A job that ended keeps the name
// it ended with; nothing to record is an Outcome with Changed false.
func (s *Service) NameRunnerTx(ctx context.Context, q *store.Q, job core.Job, name string) (Outcome, error) {
	if name == "" || job.Status.Terminal() || job.RunnerName == name {
		return Outcome{Job: job}, nil
	}
	err := q.SetJobRunnerName(ctx, job.ID, name)
	if errors.Is(err, store.ErrConflict) {
		return Outcome{Job: job}, nil // ended meanwhile
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("name runner %s on job %d: %w", name, job.ID, err)
	}
	return s.reread(ctx, q, job.ID, "name runner on job")
}

// AttachRun records runID as the run of a dispatching or triggered job that
// has none yet (a dispatch answered without run details, then correlated),
// and announces it. store.ErrDuplicate: the run already belongs to another
// job; store.ErrConflict: the job moved on or has another run.
func (s *Service) AttachRun(ctx context.Context, jobID, runID int64, runURL string) (core.Job, error) {
	return s.inTx(ctx, func(q *store.Q) (Outcome, error) { return s.AttachRunTx(ctx, q, jobID, runID, runURL) })
}

// AttachRunTx is AttachRun on the caller's transaction; Emit the Outcome
// after the commit.
func (s *Service) AttachRunTx(ctx context.Context, q *store.Q, jobID, runID int64, runURL string) (Outcome, error) {
	j, err := q.AttachRun(ctx, jobID, runID, runURL)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Job: j, announce: announceJob}, nil
}

// SetLabelMismatchTx records on a job what its run's runs-on asks for that
// no runner of its group serves ("" clears it), on the caller's
// transaction; Emit the Outcome after the commit.
func (s *Service) SetLabelMismatchTx(ctx context.Context, q *store.Q, jobID int64, text string) (Outcome, error) {
	if err := q.SetJobLabelMismatch(ctx, jobID, text); err != nil {
		return Outcome{}, fmt.Errorf("record label mismatch on job %d: %w", jobID, err)
	}
	return s.reread(ctx, q, jobID, "record label mismatch on job")
}

// SetError records why an active job waits (e.g. its run did not start in
// time) and announces it. A job that ended meanwhile keeps its own error:
// store.ErrConflict.
func (s *Service) SetError(ctx context.Context, jobID int64, msg string) (core.Job, error) {
	return s.inTx(ctx, func(q *store.Q) (Outcome, error) {
		if err := q.SetJobError(ctx, jobID, msg); err != nil {
			return Outcome{}, err
		}
		return s.reread(ctx, q, jobID, "set error of job")
	})
}

// reread returns the job as stored after a change, to be announced.
func (s *Service) reread(ctx context.Context, q *store.Q, jobID int64, what string) (Outcome, error) {
	j, err := q.GetJob(ctx, jobID)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s %d: read it back: %w", what, jobID, err)
	}
	return Outcome{Job: j, announce: announceJob}, nil
}

// inTx runs fn on a transaction of its own and emits its Outcome after the
// commit.
func (s *Service) inTx(ctx context.Context, fn func(q *store.Q) (Outcome, error)) (core.Job, error) {
	var out Outcome
	err := s.store.InTx(ctx, func(q *store.Q) error {
		var err error
		out, err = fn(q)
		return err
	})
	if err != nil {
		return core.Job{}, err
	}
	s.Emit(out)
	return out.Job, nil
}

// ResumeOwnerTx clears the back-off of owner's pending jobs, on the caller's
// transaction: the App's installation on owner appeared or was unsuspended,
// so the jobs that waited for it may be dispatched now rather than when
// their back-off ends. Emit each Outcome after the commit.
func (s *Service) ResumeOwnerTx(ctx context.Context, q *store.Q, owner string) ([]Outcome, error) {
	jobs, err := q.ResumeOwnerJobs(ctx, owner)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, len(jobs))
	for i, j := range jobs {
		out[i] = Outcome{Job: j, announce: announceJob}
	}
	return out, nil
}
