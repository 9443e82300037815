package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// OldestPending returns when the oldest pending, unpaused job of each group
// was enqueued; groups with none are absent. Paused jobs wait on purpose and
// would make the age, and the alert on it, meaningless. It reads each
// group's pending range of the jobs_queue index, so it suits a scrape.
func (q *Q) OldestPending(ctx context.Context, groupIDs []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(groupIDs))
	query := q.rebind(`SELECT created_at FROM jobs
		WHERE group_id = ? AND status = ? AND paused = ?
		ORDER BY created_at LIMIT 1`)
	for _, g := range groupIDs {
		var t time.Time
		err := q.x.GetContext(ctx, &t, query, g, core.StatusPending, false)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return nil, fmt.Errorf("oldest pending job of group %s: %w", g, err)
		}
		out[g] = t
	}
	return out, nil
}
