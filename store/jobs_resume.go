package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
)

// ResumeOwnerJobs clears the back-off of owner's pending jobs that are
// still backing off, so the next dispatch pass takes them. An installation
// of the App appearing (or being unsuspended) on owner is what calls it:
// the jobs that waited for it should not wait out their back-off as well.
// owner is compared case-insensitively, as GitHub compares logins. It
// returns the jobs it changed.
func (q *Q) ResumeOwnerJobs(ctx context.Context, owner string) ([]core.Job, error) {
	now := q.now()
	var ids []int64
	err := q.x.SelectContext(ctx, &ids, q.rebind(`
		SELECT id FROM jobs
		WHERE status = ? AND LOWER(owner) = LOWER(?) AND dispatch_after IS NOT NULL AND dispatch_after > ?
		ORDER BY id`), core.StatusPending, owner, now)
	if err != nil {
		return nil, fmt.Errorf("resume jobs of %s: %w", owner, err)
	}
	out := make([]core.Job, 0, len(ids))
	for _, id := range ids {
		j, err := q.updateJobWhere(ctx, id, "dispatch_after = NULL", nil,
			"status = ? AND dispatch_after IS NOT NULL", []any{core.StatusPending})
		if errors.Is(err, ErrConflict) {
			continue // claimed or cancelled meanwhile: nothing to resume
		}
		if err != nil {
			return nil, fmt.Errorf("resume job %d of %s: %w", id, owner, err)
		}
		out = append(out, j)
	}
	return out, nil
}
