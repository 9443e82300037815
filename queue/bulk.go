package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// BulkAction is what Bulk does to every job of a request.
type BulkAction string

const (
	BulkPause          BulkAction = "pause"
	BulkUnpause        BulkAction = "unpause"
	BulkCancel         BulkAction = "cancel"
	BulkDelete         BulkAction = "delete"
	BulkDisableRequeue BulkAction = "disable_requeue"
)

// BulkActions lists the actions Bulk accepts, in a stable order.
func BulkActions() []BulkAction {
	return []BulkAction{BulkPause, BulkUnpause, BulkCancel, BulkDelete, BulkDisableRequeue}
}

// MaxBulk is the most jobs one Bulk call may name.
const MaxBulk = 500

// BulkRequest applies one action to many jobs.
type BulkRequest struct {
	Action BulkAction
	JobIDs []int64
	// Actor is who asked (logged with cancels).
	Actor string
}

// BulkResult is one job's outcome, in the order of BulkRequest.JobIDs.
type BulkResult struct {
	JobID int64
	// Job is the job after the action; nil for delete and when Err is set.
	Job *core.Job
	// Err is why this job was left alone: store.ErrNotFound,
	// store.ErrConflict or core.ErrTransition (wrapped), exactly what the
	// single-job operation would have answered.
	Err error
	// CancelErr: the cancel was recorded (committed with the rest), but
	// telling GitHub to cancel the run failed. The reconciler re-sends the
	// cancel of every cancel_requested job with a run, so it is a warning,
	// not a failure.
	CancelErr error
}

// errNoCanceller refuses, per job, a cancel that would need GitHub when no
// Canceller is configured (the single-job Cancel refuses it too).
var errNoCanceller = errors.New("the run is live but no GitHub canceller is configured")

// Bulk applies one action to many jobs in one transaction. Each job's
// conditional update either applies or leaves that job alone with its own
// error (BulkResult.Err) without affecting the others; the applied ones
// commit together. Any other failure (the database, a cancelled context)
// rolls everything back and is returned, with no results.
//
// Events are emitted, and runs cancelled on GitHub, only after the commit:
// a GitHub cancel cannot be rolled back, so it must not be sent for a change
// that might still be.
func (s *Service) Bulk(ctx context.Context, req BulkRequest) ([]BulkResult, error) {
	if err := checkBulk(req); err != nil {
		return nil, err
	}
	apply, ok := s.bulkOps()[req.Action]
	if !ok {
		return nil, invalid("action", "%q: want one of %v", req.Action, BulkActions())
	}
	// Rows are locked in ascending id order whatever order the caller gave,
	// so two bulk requests over overlapping jobs cannot deadlock each other
	// on PostgreSQL.
	order := slices.Clone(req.JobIDs)
	slices.Sort(order)
	var (
		byID   map[int64]bulkApplied
		events []bulkApplied
	)
	err := s.store.InTx(ctx, func(q *store.Q) error {
		byID = make(map[int64]bulkApplied, len(order))
		for _, id := range order {
			a, err := retryConflict(func() (bulkApplied, error) { return apply(ctx, q, id) })
			if err != nil && !perJob(err) {
				return fmt.Errorf("bulk %s: job %d: %w", req.Action, id, err)
			}
			a.err = err
			byID[id] = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	results := make([]BulkResult, 0, len(req.JobIDs))
	for _, id := range req.JobIDs {
		a := byID[id]
		res := BulkResult{JobID: id, Err: a.err}
		if a.err == nil {
			events = append(events, a)
			if a.job.ID != 0 && req.Action != BulkDelete {
				j := a.job
				res.Job = &j
			}
			if a.cancelRun {
				res.CancelErr = s.cancelRun(ctx, a.job)
				if res.CancelErr != nil {
					s.log.Warn().Err(res.CancelErr).Int64("job", id).Int64("run", a.job.RunID).
						Msg("bulk cancel: the cancel is recorded; GitHub did not take it, the reconciler will retry")
				}
			}
		}
		results = append(results, res)
	}
	s.emitBulk(req, events)
	return results, nil
}

// bulkApplied is what one job's action did, for the results and events.
type bulkApplied struct {
	job core.Job
	// out is set when the job went through a state-machine transition
	// (a pending job withdrawn by cancel).
	out *Outcome
	// cancelRun: the job has a live run that GitHub must be told to cancel.
	cancelRun bool
	// queueChanged: the group's set or order of live jobs changed.
	queueChanged bool
	err          error
}

type bulkOp func(ctx context.Context, q *store.Q, id int64) (bulkApplied, error)

func (s *Service) bulkOps() map[BulkAction]bulkOp {
	paused := func(p bool) bulkOp {
		return func(ctx context.Context, q *store.Q, id int64) (bulkApplied, error) {
			j, err := q.SetJobPaused(ctx, id, p)
			return bulkApplied{job: j, queueChanged: true}, err
		}
	}
	return map[BulkAction]bulkOp{
		BulkPause:   paused(true),
		BulkUnpause: paused(false),
		BulkCancel:  s.bulkCancel,
		BulkDelete: func(ctx context.Context, q *store.Q, id int64) (bulkApplied, error) {
			j, err := q.GetJob(ctx, id)
			if err != nil {
				return bulkApplied{}, fmt.Errorf("delete job %d: %w", id, err)
			}
			if err := q.DeletePendingJob(ctx, id); err != nil {
				return bulkApplied{}, err
			}
			return bulkApplied{job: j, queueChanged: true}, nil
		},
		BulkDisableRequeue: func(ctx context.Context, q *store.Q, id int64) (bulkApplied, error) {
			cur, err := q.GetJob(ctx, id)
			if err != nil {
				return bulkApplied{}, fmt.Errorf("disable requeue of job %d: %w", id, err)
			}
			j, err := q.SetJobAutoRequeue(ctx, id, false, cur.RequeueLimit)
			return bulkApplied{job: j}, err
		},
	}
}

// bulkCancel is Cancel on the transaction: the same decisions, except that
// the GitHub cancel of a live run is sent by Bulk after the commit.
func (s *Service) bulkCancel(ctx context.Context, q *store.Q, id int64) (bulkApplied, error) {
	j, err := q.GetJob(ctx, id)
	if err != nil {
		return bulkApplied{}, fmt.Errorf("cancel job %d: %w", id, err)
	}
	switch {
	case j.Status.Terminal():
		return bulkApplied{}, fmt.Errorf("cancel job %d: it already ended (%s): %w", id, j.Status, core.ErrTransition)
	case j.Status == core.StatusPending:
		out, err := s.transitionTx(ctx, q, store.TransitionRequest{JobID: id, From: core.StatusPending, To: core.StatusCancelled})
		if err != nil {
			return bulkApplied{}, fmt.Errorf("cancel job %d: %w", id, err)
		}
		return bulkApplied{job: out.Job, out: &out, queueChanged: true}, nil
	}
	if hasLiveRun(j) && s.canceller == nil {
		return bulkApplied{}, fmt.Errorf("cancel job %d: %w", id, errNoCanceller)
	}
	out, err := q.SetCancelRequested(ctx, id)
	if err != nil {
		return bulkApplied{}, err
	}
	// The run is read from the row we just flagged: a dispatcher recording
	// the run after this update sees the flag itself and cancels.
	return bulkApplied{job: out, cancelRun: hasLiveRun(out)}, nil
}

// retryConflict starts a job's read-then-update over when another writer
// moved the job in between (PostgreSQL under read committed), like the
// single-job operations do.
func retryConflict(fn func() (bulkApplied, error)) (bulkApplied, error) {
	var (
		a   bulkApplied
		err error
	)
	for range raceRetries {
		if a, err = fn(); !errors.Is(err, store.ErrConflict) {
			return a, err
		}
	}
	return a, err
}

// perJob reports whether err is a decision about one job, which leaves the
// transaction usable. These come from the store's conditional updates
// finding zero rows or from checks in Go, never from a failed statement, so
// PostgreSQL has not aborted the transaction.
func perJob(err error) bool {
	var ve *ValidationError
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) ||
		errors.Is(err, core.ErrTransition) || errors.Is(err, errNoCanceller) || errors.As(err, &ve)
}

func checkBulk(req BulkRequest) error {
	if !slices.Contains(BulkActions(), req.Action) {
		return invalid("action", "%q: want one of %v", req.Action, BulkActions())
	}
	if len(req.JobIDs) == 0 || len(req.JobIDs) > MaxBulk {
		return invalid("job_ids", "want 1 to %d job ids, got %d", MaxBulk, len(req.JobIDs))
	}
	seen := make(map[int64]bool, len(req.JobIDs))
	for _, id := range req.JobIDs {
		if id <= 0 {
			return invalid("job_ids", "%d is not a job id", id)
		}
		if seen[id] {
			return invalid("job_ids", "job %d is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

// emitBulk announces the committed changes: each job once, each group's
// queue change once (one dispatcher wake-up per group, not per job).
func (s *Service) emitBulk(req BulkRequest, applied []bulkApplied) {
	var groups []string
	touch := func(g string) {
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	for _, a := range applied {
		switch {
		case a.out != nil:
			s.events.JobChanged(a.out.Job)
			if a.out.Requeued != nil {
				s.events.JobCreated(*a.out.Requeued)
			}
		case req.Action != BulkDelete:
			s.events.JobChanged(a.job)
		}
		if a.queueChanged {
			touch(a.job.GroupID)
		}
	}
	for _, g := range groups {
		s.events.QueueChanged(g)
	}
	if len(applied) > 0 {
		s.log.Info().Str("action", string(req.Action)).Str("actor", req.Actor).Int("jobs", len(req.JobIDs)).
			Int("applied", len(applied)).Msg("bulk action applied")
	}
}
