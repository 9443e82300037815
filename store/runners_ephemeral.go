package store

import (
	"context"
	"fmt"
)

// RetireEphemeralRunner marks an ephemeral runner that finished its one job
// offline and idle. Such a runner deregisters right after the job, so
// counting it as idle would promise capacity to a dispatch that no runner
// can take; its replacement registers without any webhook and is found by
// the re-list that follows (docs/ARCHITECTURE.md, Runner state from webhooks).
//
// It applies only to an ephemeral runner that is busy with this GitHub job
// or with none (its in_progress event may have been lost): a runner busy with
// another job is not the one that finished. retired is false when nothing
// changed.
func (q *Q) RetireEphemeralRunner(ctx context.Context, runnerID, githubJobID int64) (retired bool, err error) {
	now := q.now()
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE runners
		SET busy = FALSE, status = 'offline', current_job_id = NULL, updated_at = ?, seen_at = ?
		WHERE id = ? AND ephemeral = TRUE AND (current_job_id = ? OR current_job_id IS NULL)`),
		now, now, runnerID, githubJobID)
	if err != nil {
		return false, fmt.Errorf("retire ephemeral runner %d after job %d: %w", runnerID, githubJobID, err)
	}
	n, err := affected(res, "retire ephemeral runner")
	return n == 1, err
}
