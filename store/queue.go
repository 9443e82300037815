package store

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/core"
)

// Queue order is an explicit, gapped float position among a group's pending
// jobs: a job placed between two others takes the midpoint, so a move or an
// insert writes one row. Only when two neighbours get closer than minGap
// (after ~30 halvings of the same gap) is a window of jobs around that spot
// respaced (queue_respace.go).
const (
	positionGap = 1024.0
	minGap      = 1e-6
)

// Where says where a job is placed in its group's pending queue.
type Where int

const (
	// Bottom is the zero value: the end of the queue.
	Bottom Where = iota
	Top
	// Before places the job right before Placement.Before, which must be a
	// pending job of the same group.
	Before
)

// Placement is a position in a pending queue.
type Placement struct {
	Where  Where
	Before int64
}

// JobPage is one page of a list; NextCursor is empty on the last page.
type JobPage struct {
	Items      []core.Job
	NextCursor string
}

// InsertJob adds a pending job to its group's queue at the placement and
// returns it as stored. The job's labels are stored with it. Status,
// position, run and timestamp fields of j are ignored.
func (q *Q) InsertJob(ctx context.Context, j core.Job, at Placement) (core.Job, error) {
	var out core.Job
	err := q.atomic(ctx, func(q *Q) error {
		if _, err := q.lockGroup(ctx, j.GroupID); err != nil {
			return err
		}
		pos, err := q.positionFor(ctx, j.GroupID, at, 0)
		if err != nil {
			return err
		}
		inputs := j.Inputs
		if inputs == nil {
			inputs = map[string]string{}
		}
		ij, err := jsonText(inputs)
		if err != nil {
			return fmt.Errorf("encode inputs: %w", err)
		}
		now := q.now()
		var id int64
		err = q.x.GetContext(ctx, &id, q.rebind(`
			INSERT INTO jobs (group_id, template_id, name, owner, repo, workflow_id, ref, inputs,
				status, paused, position, auto_requeue, requeue_limit, requeue_count,
				source, source_url, created_by, dispatch_after, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING id`),
			j.GroupID, nullIfEmpty(j.TemplateID), j.Name, j.Owner, j.Repo, j.WorkflowID, j.Ref, ij,
			core.StatusPending, j.Paused, pos, j.AutoRequeue, j.RequeueLimit, j.RequeueCount,
			string(j.Source), j.SourceURL, j.CreatedBy, timeArg(j.DispatchAfter), now, now)
		if err != nil {
			return err
		}
		for k, v := range j.Labels {
			if _, err := q.x.ExecContext(ctx, q.rebind("INSERT INTO job_labels (job_id, key, value) VALUES (?, ?, ?)"), id, k, v); err != nil {
				return fmt.Errorf("label %s: %w", k, err)
			}
		}
		out, err = q.GetJob(ctx, id)
		return err
	})
	if err != nil {
		return core.Job{}, fmt.Errorf("insert job into group %s: %w", j.GroupID, err)
	}
	return out, nil
}

// positionFor computes a free position at the placement, ignoring job
// exclude (the job being moved). The caller holds the group lock.
func (q *Q) positionFor(ctx context.Context, groupID string, at Placement, exclude int64) (float64, error) {
	switch at.Where {
	case Bottom, Top:
		edge, ok, err := q.queueEdge(ctx, groupID, at.Where == Top, exclude)
		if err != nil {
			return 0, err
		}
		switch {
		case !ok:
			return positionGap, nil
		case at.Where == Top:
			return edge - positionGap, nil
		default:
			return edge + positionGap, nil
		}
	case Before:
		for attempt := 0; ; attempt++ {
			anchor, prev, hasPrev, err := q.neighbours(ctx, groupID, at.Before, exclude)
			if err != nil {
				return 0, err
			}
			if !hasPrev {
				return anchor - positionGap, nil
			}
			mid := prev + (anchor-prev)/2
			if anchor-prev >= minGap && prev < mid && mid < anchor {
				return mid, nil
			}
			if attempt > 0 {
				return 0, fmt.Errorf("no room before job %d after respacing group %s", at.Before, groupID)
			}
			if err := q.respace(ctx, groupID, at.Before, anchor, exclude); err != nil {
				return 0, err
			}
		}
	default:
		return 0, fmt.Errorf("unknown placement %d: %w", at.Where, ErrInvalid)
	}
}

// neighbours returns the position of anchor and of the pending job right
// before it (ignoring exclude).
func (q *Q) neighbours(ctx context.Context, groupID string, anchorID, exclude int64) (anchor, prev float64, hasPrev bool, err error) {
	var a struct {
		GroupID  string  `db:"group_id"`
		Status   string  `db:"status"`
		Position float64 `db:"position"`
	}
	if err := q.x.GetContext(ctx, &a, q.rebind("SELECT group_id, status, position FROM jobs WHERE id = ?"), anchorID); err != nil {
		return 0, 0, false, notFound(err, fmt.Sprintf("job %d to place before", anchorID))
	}
	if a.GroupID != groupID || core.JobStatus(a.Status) != core.StatusPending {
		return 0, 0, false, fmt.Errorf("job %d is not a pending job of group %s (it is %s in %s): %w",
			anchorID, groupID, a.Status, a.GroupID, ErrConflict)
	}
	before, err := q.slotsBefore(ctx, groupID, a.Position, anchorID, exclude, 1)
	if err != nil || len(before) == 0 {
		return a.Position, 0, false, err
	}
	return a.Position, before[0].Position, true, nil
}

// MoveJob moves a pending job right before another pending job of its group,
// or to the bottom when before is nil. It writes the moved job's row only
// (except for a rare respacing of its neighbours).
func (q *Q) MoveJob(ctx context.Context, jobID int64, before *int64) (core.Job, error) {
	var out core.Job
	err := q.atomic(ctx, func(q *Q) error {
		j, err := q.GetJob(ctx, jobID)
		if err != nil {
			return err
		}
		if j.Status != core.StatusPending {
			return fmt.Errorf("job is %s, only pending jobs move: %w", j.Status, ErrConflict)
		}
		if _, err := q.lockGroup(ctx, j.GroupID); err != nil {
			return err
		}
		at := Placement{Where: Bottom}
		if before != nil {
			if *before == jobID {
				out = j
				return nil
			}
			at = Placement{Where: Before, Before: *before}
		}
		pos, err := q.positionFor(ctx, j.GroupID, at, jobID)
		if err != nil {
			return err
		}
		out, err = q.updateJobWhere(ctx, jobID, "position = ?", []any{pos},
			"status = ?", []any{core.StatusPending})
		return err
	})
	if err != nil {
		return core.Job{}, fmt.Errorf("move job %d: %w", jobID, err)
	}
	return out, nil
}

// Reorder sets the order of a group's pending jobs. ids must be exactly the
// group's pending jobs; anything else (a stale list: a job was added,
// dispatched or deleted meanwhile) is refused with ErrConflict.
func (q *Q) Reorder(ctx context.Context, groupID string, ids []int64) error {
	err := q.atomic(ctx, func(q *Q) error {
		if _, err := q.lockGroup(ctx, groupID); err != nil {
			return err
		}
		var rows []struct {
			ID       int64   `db:"id"`
			Position float64 `db:"position"`
		}
		if err := q.x.SelectContext(ctx, &rows, q.rebind("SELECT id, position FROM jobs WHERE group_id = ? AND status = ?"),
			groupID, core.StatusPending); err != nil {
			return err
		}
		current := make(map[int64]float64, len(rows))
		for _, r := range rows {
			current[r.ID] = r.Position
		}
		seen := make(map[int64]bool, len(ids))
		for _, id := range ids {
			if _, ok := current[id]; !ok || seen[id] {
				return fmt.Errorf("job %d is not a pending job of the group or is listed twice: %w", id, ErrConflict)
			}
			seen[id] = true
		}
		if len(ids) != len(current) {
			return fmt.Errorf("list has %d jobs, the group has %d pending: %w", len(ids), len(current), ErrConflict)
		}
		now := q.now()
		for i, id := range ids {
			pos := float64(i+1) * positionGap
			if current[id] == pos {
				continue
			}
			if _, err := q.x.ExecContext(ctx, q.rebind("UPDATE jobs SET position = ?, updated_at = ? WHERE id = ?"), pos, now, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reorder group %s: %w", groupID, err)
	}
	return nil
}

// QueueQuery selects a page of a group's queue.
type QueueQuery struct {
	GroupID string
	Cursor  string
	Limit   int // default 100, at most 1000
}

// ListQueue returns a group's live queue: active jobs (dispatching,
// triggered, running) first, then pending jobs in queue order.
//
// The two parts are read separately so that each is an ordered range of the
// jobs_queue index: one query ordering both by a computed rank sorts every
// live job of the group, 100,000 of them for a deep queue, to return 100.
func (q *Q) ListQueue(ctx context.Context, qq QueueQuery) (JobPage, error) {
	limit := pageLimit(qq.Limit, 100, 1000)
	c := queueCursor{rank: -1}
	if qq.Cursor != "" {
		var err error
		if c, err = decodeQueueCursor(qq.Cursor); err != nil {
			return JobPage{}, err
		}
	}
	var jobs []core.Job
	if c.rank <= 0 {
		query := "SELECT " + jobColumns + " FROM jobs WHERE group_id = ? AND status IN (?, ?, ?)"
		args := []any{qq.GroupID, core.StatusDispatching, core.StatusTriggered, core.StatusRunning}
		if c.rank == 0 {
			query += " AND (position > ? OR (position = ? AND id > ?))"
			args = append(args, c.position, c.position, c.id)
		}
		active, err := q.selectJobs(ctx, query+" ORDER BY position, id LIMIT ?", append(args, limit+1)...)
		if err != nil {
			return JobPage{}, fmt.Errorf("list active jobs of %s: %w", qq.GroupID, err)
		}
		jobs = active
	}
	if c.rank <= 1 && len(jobs) <= limit {
		query := "SELECT " + jobColumns + " FROM jobs WHERE group_id = ? AND status = ?"
		args := []any{qq.GroupID, core.StatusPending}
		if c.rank == 1 {
			query += " AND position >= ? AND (position > ? OR id > ?)"
			args = append(args, c.position, c.position, c.id)
		}
		pending, err := q.selectJobs(ctx, query+" ORDER BY position, id LIMIT ?", append(args, limit+1-len(jobs))...)
		if err != nil {
			return JobPage{}, fmt.Errorf("list pending jobs of %s: %w", qq.GroupID, err)
		}
		jobs = append(jobs, pending...)
	}
	page := JobPage{Items: jobs}
	if len(jobs) > limit {
		page.Items = jobs[:limit]
		last := page.Items[limit-1]
		r := 0
		if last.Status == core.StatusPending {
			r = 1
		}
		page.NextCursor = queueCursor{rank: r, position: last.Position, id: last.ID}.encode()
	}
	return page, nil
}

func pageLimit(n, def, maxN int) int {
	if n <= 0 {
		return def
	}
	return min(n, maxN)
}
