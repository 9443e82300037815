package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// The dispatcher reads these on every wake-up, i.e. after nearly every
// webhook, so they read only the columns a capacity calculation needs:
// full job rows carry inputs, labels and a dozen timestamps to decode, and a
// profile of a busy fleet showed that decoding as the dispatcher's main cost.

// ActiveJob is a job that holds a runner or will soon: dispatching,
// triggered or running.
type ActiveJob struct {
	ID          int64
	GroupID     string
	Status      core.JobStatus
	RunID       int64
	TriggeredAt *time.Time
	// LabelMismatch: the job's run asks for runs-on labels no runner of its
	// group has (core.Job.LabelMismatch is set), so it cannot start there.
	LabelMismatch bool
}

// ActiveJobs lists the dispatching, triggered and running jobs, by id.
func (q *Q) ActiveJobs(ctx context.Context) ([]ActiveJob, error) {
	var rows []struct {
		ID          int64         `db:"id"`
		GroupID     string        `db:"group_id"`
		Status      string        `db:"status"`
		RunID       sql.NullInt64 `db:"run_id"`
		TriggeredAt sql.NullTime  `db:"triggered_at"`
		Mismatched  int           `db:"mismatched"`
	}
	// The flag's text is not needed, only whether it is set: a CASE keeps
	// the row as small as before and reads the same on both databases.
	err := q.x.SelectContext(ctx, &rows, q.rebind(`
		SELECT id, group_id, status, run_id, triggered_at,
			CASE WHEN label_mismatch IS NULL OR label_mismatch = '' THEN 0 ELSE 1 END AS mismatched
		FROM jobs
		WHERE status IN (?, ?, ?) ORDER BY id`),
		core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
	if err != nil {
		return nil, fmt.Errorf("list active jobs: %w", err)
	}
	out := make([]ActiveJob, len(rows))
	for i, r := range rows {
		out[i] = ActiveJob{ID: r.ID, GroupID: r.GroupID, Status: core.JobStatus(r.Status), RunID: r.RunID.Int64,
			LabelMismatch: r.Mismatched != 0}
		if r.TriggeredAt.Valid {
			t := r.TriggeredAt.Time.UTC()
			out[i].TriggeredAt = &t
		}
	}
	return out, nil
}

// OnlineRunners lists the runners GitHub shows online, with what capacity
// needs (id, labels, busy, current job); offline runners take no job.
// Runners of one pool share one label list, so each distinct encoding is
// decoded once and its slice shared: callers must not modify labels.
func (q *Q) OnlineRunners(ctx context.Context) ([]core.Runner, error) {
	var rows []struct {
		ID           int64         `db:"id"`
		Labels       string        `db:"labels"`
		Busy         bool          `db:"busy"`
		CurrentJobID sql.NullInt64 `db:"current_job_id"`
	}
	err := q.x.SelectContext(ctx, &rows, q.rebind(`
		SELECT id, labels, busy, current_job_id FROM runners WHERE status = ?`), core.RunnerOnline)
	if err != nil {
		return nil, fmt.Errorf("list online runners: %w", err)
	}
	decoded := map[string][]string{}
	out := make([]core.Runner, len(rows))
	for i, r := range rows {
		labels, ok := decoded[r.Labels]
		if !ok {
			if labels, err = decodeLabels(r.Labels); err != nil {
				return nil, fmt.Errorf("runner %d: %w", r.ID, err)
			}
			decoded[r.Labels] = labels
		}
		out[i] = core.Runner{
			ID: r.ID, Labels: labels, Status: core.RunnerOnline, Busy: r.Busy, CurrentJobID: r.CurrentJobID.Int64,
		}
	}
	return out, nil
}

// RunnerCounts counts the online runners and, of those, the busy ones (the
// fleet gauges), without reading the rows.
func (q *Q) RunnerCounts(ctx context.Context) (online, busy int, err error) {
	var c struct {
		Online int `db:"online"`
		Busy   int `db:"busy"`
	}
	err = q.x.GetContext(ctx, &c, q.rebind(`
		SELECT COUNT(*) AS online, COALESCE(SUM(CASE WHEN busy = ? THEN 1 ELSE 0 END), 0) AS busy
		FROM runners WHERE status = ?`), true, core.RunnerOnline)
	if err != nil {
		return 0, 0, fmt.Errorf("count runners: %w", err)
	}
	return c.Online, c.Busy, nil
}
