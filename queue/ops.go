package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// Move places a pending job right before another pending job of its group,
// or at the bottom when before is nil.
func (s *Service) Move(ctx context.Context, jobID int64, before *int64) (core.Job, error) {
	j, err := s.store.MoveJob(ctx, jobID, before)
	if err != nil {
		return core.Job{}, err
	}
	s.events.JobChanged(j)
	s.events.QueueChanged(j.GroupID)
	return j, nil
}

// Reorder sets the whole order of a group's pending jobs; ids must be
// exactly its pending jobs (store.ErrConflict otherwise: the caller's view is
// stale).
func (s *Service) Reorder(ctx context.Context, groupID string, ids []int64) error {
	if len(ids) == 0 {
		return invalid("job_ids", "is empty")
	}
	if err := s.store.Reorder(ctx, groupID, ids); err != nil {
		return err
	}
	s.events.QueueChanged(groupID)
	return nil
}

// PauseJob keeps a pending job in place but out of dispatch.
func (s *Service) PauseJob(ctx context.Context, jobID int64) (core.Job, error) {
	return s.setJobPaused(ctx, jobID, true)
}

// UnpauseJob makes a paused pending job dispatchable again.
func (s *Service) UnpauseJob(ctx context.Context, jobID int64) (core.Job, error) {
	return s.setJobPaused(ctx, jobID, false)
}

func (s *Service) setJobPaused(ctx context.Context, jobID int64, paused bool) (core.Job, error) {
	j, err := s.store.SetJobPaused(ctx, jobID, paused)
	if err != nil {
		return core.Job{}, err
	}
	s.events.JobChanged(j)
	s.events.QueueChanged(j.GroupID)
	return j, nil
}

// PauseGroup stops a group from dispatching; it reports whether anything
// changed (pausing a paused group is a no-op without events).
func (s *Service) PauseGroup(ctx context.Context, groupID string) (bool, error) {
	return s.setGroupPaused(ctx, groupID, true)
}

// UnpauseGroup lets a paused group dispatch again.
func (s *Service) UnpauseGroup(ctx context.Context, groupID string) (bool, error) {
	return s.setGroupPaused(ctx, groupID, false)
}

func (s *Service) setGroupPaused(ctx context.Context, groupID string, paused bool) (bool, error) {
	changed, err := s.store.SetGroupPaused(ctx, groupID, paused)
	if err != nil {
		return false, err
	}
	if changed {
		s.log.Info().Str("group", groupID).Bool("paused", paused).Msg("group pause changed")
		s.events.GroupChanged(groupID)
	}
	return changed, nil
}

// UpdateRequest changes what a pending job will dispatch; nil fields are kept.
type UpdateRequest struct {
	JobID        int64
	Ref          *string
	Inputs       map[string]string // replaces all inputs when non-nil
	AutoRequeue  *bool
	RequeueLimit *int
}

// UpdatePending applies u while the job is still pending (store.ErrConflict
// once it has been dispatched).
func (s *Service) UpdatePending(ctx context.Context, u UpdateRequest) (core.Job, error) {
	if u.Ref != nil && *u.Ref == "" {
		return core.Job{}, invalid("ref", "must not be empty")
	}
	if u.RequeueLimit != nil && *u.RequeueLimit < 0 {
		return core.Job{}, invalid("requeue_limit", "must not be negative, got %d", *u.RequeueLimit)
	}
	if err := checkInputs(u.Inputs); err != nil {
		return core.Job{}, err
	}
	j, err := s.store.UpdatePendingJob(ctx, store.JobUpdate{
		JobID: u.JobID, Ref: u.Ref, Inputs: u.Inputs, AutoRequeue: u.AutoRequeue, RequeueLimit: u.RequeueLimit,
	})
	if err != nil {
		return core.Job{}, err
	}
	s.events.JobChanged(j)
	return j, nil
}

// DeletePending removes a pending job (store.ErrConflict once dispatched:
// cancel it instead).
func (s *Service) DeletePending(ctx context.Context, jobID int64) error {
	j, err := s.store.GetJob(ctx, jobID)
	if err != nil {
		return err
	}
	if err := s.store.DeletePendingJob(ctx, jobID); err != nil {
		return err
	}
	s.log.Info().Int64("job", jobID).Str("group", j.GroupID).Msg("pending job deleted")
	s.events.QueueChanged(j.GroupID)
	return nil
}

// SetAutoRequeue changes a job's requeue settings while it has not ended;
// "disable requeue" before cancelling a running job is SetAutoRequeue(id,
// false, 0).
func (s *Service) SetAutoRequeue(ctx context.Context, jobID int64, enabled bool, limit int) (core.Job, error) {
	if limit < 0 {
		return core.Job{}, invalid("requeue_limit", "must not be negative, got %d", limit)
	}
	j, err := s.store.SetJobAutoRequeue(ctx, jobID, enabled, limit)
	if err != nil {
		return core.Job{}, err
	}
	s.events.JobChanged(j)
	return j, nil
}

// History returns a page of a group's finished jobs, newest first.
func (s *Service) History(ctx context.Context, q store.HistoryQuery) (store.JobPage, error) {
	if _, err := s.store.GetGroup(ctx, q.GroupID); err != nil {
		return store.JobPage{}, err
	}
	p, err := s.store.History(ctx, q)
	return p, asValidation("history query", err)
}

// HistoryStats counts a group's finished jobs per time bucket since since.
func (s *Service) HistoryStats(ctx context.Context, groupID string, since time.Time, bucket time.Duration) ([]store.StatsBucket, error) {
	if _, err := s.store.GetGroup(ctx, groupID); err != nil {
		return nil, err
	}
	b, err := s.store.HistoryStats(ctx, groupID, since, bucket)
	return b, asValidation("stats query", err)
}

// Cleanup deletes finished jobs that completed more than retention ago and
// returns how many it deleted.
func (s *Service) Cleanup(ctx context.Context, retention time.Duration) (int64, error) {
	if retention <= 0 {
		return 0, invalid("retention", "must be positive, got %s", retention)
	}
	n, err := s.store.DeleteHistoryBefore(ctx, s.now().Add(-retention))
	if err != nil {
		return 0, fmt.Errorf("history cleanup: %w", err)
	}
	if n > 0 {
		s.log.Info().Int64("deleted", n).Dur("retention", retention).Msg("history cleaned up")
	}
	return n, nil
}
