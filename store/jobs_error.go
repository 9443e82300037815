package store

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
)

// SetJobError records why an active job needs attention without ending it
// (e.g. its run has not started within start_timeout), so the API and the UI
// show the reason next to the job; "" clears it. A job that has ended keeps
// the error it ended with: ErrConflict. An unknown job is ErrNotFound.
func (q *Q) SetJobError(ctx context.Context, jobID int64, msg string) error {
	_, err := q.updateJobWhere(ctx, jobID, "error = ?", []any{msg},
		"status IN (?, ?, ?, ?)",
		[]any{core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning})
	if err != nil {
		return fmt.Errorf("set error of job %d: %w", jobID, err)
	}
	return nil
}
