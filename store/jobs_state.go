package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/mattn/go-sqlite3"

	"github.com/ethpandaops/dispatchoor/core"
)

// TransitionRequest moves a job from one status to another, conditionally.
type TransitionRequest struct {
	JobID int64
	// From is the status the caller believes the job is in; the update
	// happens only if it still is.
	From, To core.JobStatus
	// AttemptID, when set, must also match the job's current dispatch
	// attempt, so a replica acting on a superseded attempt loses.
	AttemptID string
	// NewAttemptID is required when To is dispatching.
	NewAttemptID string
	// Run facts learnt from GitHub; zero values leave the columns alone.
	RunID      int64
	RunURL     string
	RunnerName string
	Conclusion string
	Error      string
	// DispatchAfter delays the next claim when a job returns to pending
	// (back-off after a transient error).
	DispatchAfter *time.Time
}

// Transition applies a state-machine step as one conditional update:
// core.CheckTransition refusals return core.ErrTransition; a job that is no
// longer in From (or no longer on AttemptID) returns ErrConflict; a run id
// already owned by another job returns ErrDuplicate. The timestamp of the new
// status is stamped.
func (q *Q) Transition(ctx context.Context, r TransitionRequest) (core.Job, error) {
	what := fmt.Sprintf("job %d %s -> %s", r.JobID, r.From, r.To)
	if err := core.CheckTransition(r.From, r.To); err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	now := q.now()
	set := []string{"status = ?"}
	args := []any{r.To}
	switch {
	case r.To == core.StatusDispatching:
		if r.NewAttemptID == "" {
			return core.Job{}, fmt.Errorf("%s: a new attempt id is required: %w", what, ErrInvalid)
		}
		// A new attempt clears the reason the last one waited for (an
		// installation that was missing): it no longer describes the job.
		set = append(set, "attempt_id = ?", "dispatching_at = ?", "dispatch_after = NULL", "error = ''")
		args = append(args, r.NewAttemptID, now)
	case r.To == core.StatusPending:
		set = append(set, "dispatch_after = ?")
		args = append(args, timeArg(r.DispatchAfter))
	case r.To == core.StatusTriggered:
		set = append(set, "triggered_at = ?")
		args = append(args, now)
	case r.To == core.StatusRunning:
		// An adopted run may skip triggered; keep the timeline complete.
		set = append(set, "started_at = ?", "triggered_at = COALESCE(triggered_at, ?)")
		args = append(args, now, now)
	case r.To.Terminal():
		// A paused pending job may be cancelled; the flag only lives on pending.
		set = append(set, "completed_at = ?", "paused = ?")
		args = append(args, now, false)
	}
	for _, c := range []struct {
		col string
		set bool
		val any
	}{
		{"run_id", r.RunID != 0, r.RunID},
		{"run_url", r.RunURL != "", r.RunURL},
		{"runner_name", r.RunnerName != "", r.RunnerName},
		{"conclusion", r.Conclusion != "", r.Conclusion},
		{"error", r.Error != "", r.Error},
	} {
		if c.set {
			set = append(set, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	where := "status = ?"
	whereArgs := []any{r.From}
	if r.To == core.StatusDispatching {
		// A paused job is never dispatched, so a pause racing a dispatch
		// pass wins.
		where += " AND paused = ?"
		whereArgs = append(whereArgs, false)
	}
	if r.AttemptID != "" {
		where += " AND attempt_id = ?"
		whereArgs = append(whereArgs, r.AttemptID)
	}
	j, err := q.updateJobWhere(ctx, r.JobID, strings.Join(set, ", "), args, where, whereArgs)
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	return j, nil
}

// ClaimNextPending moves up to n of a group's first dispatchable pending jobs
// (not paused, back-off passed) to dispatching, each with a fresh attempt id
// from newAttempt, atomically. A paused or disabled group yields nothing.
// Two replicas claiming at once serialise on the group row; each job is
// additionally moved with a conditional update, so none is claimed twice.
func (q *Q) ClaimNextPending(ctx context.Context, groupID string, n int, newAttempt func() string) ([]core.Job, error) {
	if n <= 0 {
		return nil, nil
	}
	var claimed []core.Job
	err := q.atomic(ctx, func(q *Q) error {
		g, err := q.lockGroup(ctx, groupID)
		if err != nil {
			return err
		}
		if !g.Enabled || g.Paused {
			return nil
		}
		now := q.now()
		var ids []int64
		err = q.x.SelectContext(ctx, &ids, q.rebind(`
			SELECT id FROM jobs
			WHERE group_id = ? AND status = ? AND paused = ? AND (dispatch_after IS NULL OR dispatch_after <= ?)
			ORDER BY position, id LIMIT ?`),
			groupID, core.StatusPending, false, now, n)
		if err != nil {
			return err
		}
		for _, id := range ids {
			j, err := q.updateJobWhere(ctx, id,
				"status = ?, attempt_id = ?, dispatching_at = ?, dispatch_after = NULL, error = ''",
				[]any{core.StatusDispatching, newAttempt(), now},
				"status = ? AND paused = ?", []any{core.StatusPending, false})
			if errors.Is(err, ErrConflict) {
				continue // cancelled or paused under us
			}
			if err != nil {
				return err
			}
			claimed = append(claimed, j)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d jobs of group %s: %w", n, groupID, err)
	}
	return claimed, nil
}

// SetCancelRequested marks an active job whose cancel is on its way to
// GitHub (or waits for the dispatcher to learn the run).
func (q *Q) SetCancelRequested(ctx context.Context, jobID int64) (core.Job, error) {
	j, err := q.updateJobWhere(ctx, jobID, "cancel_requested = ?", []any{true},
		"status IN (?, ?, ?)", []any{core.StatusDispatching, core.StatusTriggered, core.StatusRunning})
	if err != nil {
		return core.Job{}, fmt.Errorf("request cancel of job %d: %w", jobID, err)
	}
	return j, nil
}

// SetDispatchAfter sets (or with nil clears) the back-off of a pending job.
func (q *Q) SetDispatchAfter(ctx context.Context, jobID int64, t *time.Time) (core.Job, error) {
	j, err := q.updateJobWhere(ctx, jobID, "dispatch_after = ?", []any{timeArg(t)},
		"status = ?", []any{core.StatusPending})
	if err != nil {
		return core.Job{}, fmt.Errorf("set dispatch_after of job %d: %w", jobID, err)
	}
	return j, nil
}

// SetJobPaused pauses or unpauses a pending job. A job in another status
// gets core.ErrTransition; one that left pending meanwhile, ErrConflict.
func (q *Q) SetJobPaused(ctx context.Context, jobID int64, paused bool) (core.Job, error) {
	what := fmt.Sprintf("set job %d paused=%t", jobID, paused)
	cur, err := q.GetJob(ctx, jobID)
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := core.CheckPause(cur.Status); err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	j, err := q.updateJobWhere(ctx, jobID, "paused = ?", []any{paused}, "status = ?", []any{core.StatusPending})
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	return j, nil
}

// JobUpdate changes what a pending job will dispatch; nil fields are kept.
type JobUpdate struct {
	JobID        int64
	Ref          *string
	Inputs       map[string]string // replaces all inputs when non-nil
	AutoRequeue  *bool
	RequeueLimit *int
}

// UpdatePendingJob applies u while the job is pending; ErrConflict otherwise.
func (q *Q) UpdatePendingJob(ctx context.Context, u JobUpdate) (core.Job, error) {
	what := fmt.Sprintf("update pending job %d", u.JobID)
	var set []string
	var args []any
	if u.Ref != nil {
		set, args = append(set, "ref = ?"), append(args, *u.Ref)
	}
	if u.Inputs != nil {
		ij, err := jsonText(u.Inputs)
		if err != nil {
			return core.Job{}, fmt.Errorf("%s: encode inputs: %w", what, err)
		}
		set, args = append(set, "inputs = ?"), append(args, ij)
	}
	if u.AutoRequeue != nil {
		set, args = append(set, "auto_requeue = ?"), append(args, *u.AutoRequeue)
	}
	if u.RequeueLimit != nil {
		if *u.RequeueLimit < 0 {
			return core.Job{}, fmt.Errorf("%s: requeue_limit %d is negative: %w", what, *u.RequeueLimit, ErrInvalid)
		}
		set, args = append(set, "requeue_limit = ?"), append(args, *u.RequeueLimit)
	}
	if len(set) == 0 {
		set = append(set, "ref = ref") // still checks the job is pending
	}
	j, err := q.updateJobWhere(ctx, u.JobID, strings.Join(set, ", "), args, "status = ?", []any{core.StatusPending})
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	return j, nil
}

// SetJobAutoRequeue changes the requeue settings of a job that has not ended
// (e.g. "disable requeue" before cancelling a running job).
func (q *Q) SetJobAutoRequeue(ctx context.Context, jobID int64, enabled bool, limit int) (core.Job, error) {
	what := fmt.Sprintf("set auto-requeue of job %d", jobID)
	if limit < 0 {
		return core.Job{}, fmt.Errorf("%s: requeue_limit %d is negative: %w", what, limit, ErrInvalid)
	}
	cur, err := q.GetJob(ctx, jobID)
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	if cur.Status.Terminal() {
		return core.Job{}, fmt.Errorf("%s: job has ended (%s): %w", what, cur.Status, core.ErrTransition)
	}
	j, err := q.updateJobWhere(ctx, jobID, "auto_requeue = ?, requeue_limit = ?", []any{enabled, limit},
		"status IN (?, ?, ?, ?)", []any{core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning})
	if err != nil {
		return core.Job{}, fmt.Errorf("%s: %w", what, err)
	}
	return j, nil
}

// DeletePendingJob removes a pending job; ErrConflict if it is not pending.
func (q *Q) DeletePendingJob(ctx context.Context, jobID int64) error {
	res, err := q.x.ExecContext(ctx, q.rebind("DELETE FROM jobs WHERE id = ? AND status = ?"), jobID, core.StatusPending)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = q.missingOrConflict(ctx, jobID)
		}
	}
	if err != nil {
		return fmt.Errorf("delete pending job %d: %w", jobID, err)
	}
	return nil
}

// updateJobWhere runs "UPDATE jobs SET <set>, updated_at WHERE id AND
// <where>" and returns the job as it is after the update. Zero rows changed
// means the job is gone (ErrNotFound) or not in the expected state
// (ErrConflict).
func (q *Q) updateJobWhere(ctx context.Context, id int64, set string, setArgs []any, where string, whereArgs []any) (core.Job, error) {
	args := append(append(append([]any{}, setArgs...), q.now(), id), whereArgs...)
	res, err := q.x.ExecContext(ctx, q.rebind("UPDATE jobs SET "+set+", updated_at = ? WHERE id = ? AND "+where), args...)
	if err != nil {
		if violatesUnique(err) {
			return core.Job{}, fmt.Errorf("%w: %v", ErrDuplicate, err)
		}
		return core.Job{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return core.Job{}, err
	}
	if n == 0 {
		return core.Job{}, q.missingOrConflict(ctx, id)
	}
	return q.GetJob(ctx, id)
}

func (q *Q) missingOrConflict(ctx context.Context, id int64) error {
	cur, err := q.GetJob(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("job is %s (attempt %q): %w", cur.Status, cur.AttemptID, ErrConflict)
}

// violatesUnique reports a unique-constraint failure in either database.
func violatesUnique(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}
