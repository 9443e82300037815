package store

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
)

// AttachRun records the workflow run of a job that is waiting for one: a job
// dispatched without run details (GitHub Enterprise Server before 3.20) stays
// dispatching or triggered with no run id until a workflow_run event is
// correlated to it, and no status change carries the run id at that moment.
// Attaching the run at once lets the run's workflow_job events find the job
// (label checks, runner name) before the run starts.
//
// Attaching the run id the job already has is a no-op that returns the job.
// A job in another status, or with another run, is ErrConflict; a run id that
// belongs to another job is ErrDuplicate. An empty runURL keeps the stored one.
func (q *Q) AttachRun(ctx context.Context, jobID, runID int64, runURL string) (core.Job, error) {
	what := fmt.Sprintf("attach run %d to job %d", runID, jobID)
	if runID <= 0 {
		return core.Job{}, fmt.Errorf("%s: invalid run id: %w", what, ErrInvalid)
	}
	set, args := "run_id = ?", []any{runID}
	if runURL != "" {
		set, args = set+", run_url = ?", append(args, runURL)
	}
	j, err := q.updateJobWhere(ctx, jobID, set, args,
		"status IN (?, ?) AND (run_id IS NULL OR run_id = ?)",
		[]any{core.StatusDispatching, core.StatusTriggered, runID})
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	return j, nil
}

// SetJobRunnerName records the runner that runs a job. GitHub sends the
// run's in_progress (which names no runner) before its job's in_progress
// (which does), so a job is often already running when the name arrives. A
// job that has ended keeps the name it finished with: ErrConflict.
func (q *Q) SetJobRunnerName(ctx context.Context, jobID int64, name string) error {
	what := fmt.Sprintf("set runner name of job %d", jobID)
	if name == "" {
		return fmt.Errorf("%s: empty name: %w", what, ErrInvalid)
	}
	_, err := q.updateJobWhere(ctx, jobID, "runner_name = ?", []any{name},
		"status IN (?, ?, ?, ?)",
		[]any{core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// SetJobLabelMismatch flags a job whose run asks for runs-on labels no runner
// of its group has, with text saying which; "" clears the flag. Any job may
// carry it, also a finished one: it explains why the run waited.
func (q *Q) SetJobLabelMismatch(ctx context.Context, jobID int64, text string) error {
	_, err := q.updateJobWhere(ctx, jobID, "label_mismatch = ?", []any{nullIfEmpty(text)}, "1 = 1", nil)
	if err != nil {
		return fmt.Errorf("set label mismatch of job %d: %w", jobID, err)
	}
	return nil
}
