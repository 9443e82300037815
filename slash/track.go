package slash

import (
	"context"
	"fmt"
	"sync"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
)

// tracker maps the jobs queued from comments to our replies, so a job's
// progress can edit the reply that announced it.
//
// It lives in memory only (the jobs table has no column for a reply, and a
// table of our own would be a schema change): after a restart, replies
// written before it are no longer edited. The job itself is unaffected,
// and the dashboard link in the reply still shows its state.
type tracker struct {
	mu    sync.Mutex
	byJob map[int64]*reply
}

func newTracker() *tracker { return &tracker{byJob: map[int64]*reply{}} }

func (t *tracker) add(r *reply, j core.Job) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[int64]core.Job{}
	}
	r.jobs[j.ID] = j
	t.byJob[j.ID] = r
}

// update records j's new state and returns its reply, if it has one and the
// state is news. Events may arrive out of order (the dispatcher and a
// webhook race); a finished job never goes back, and a dispatched one
// returns only from dispatching to pending.
func (t *tracker) update(j core.Job) (*reply, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.byJob[j.ID]
	if r == nil {
		return nil, false
	}
	cur := r.jobs[j.ID]
	if cur.Status.Terminal() {
		return nil, false
	}
	if progress(j.Status) < progress(cur.Status) && cur.Status != core.StatusDispatching {
		return nil, false
	}
	r.jobs[j.ID] = j
	return r, true
}

func (t *tracker) forget(r *reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range r.jobs {
		if t.byJob[id] == r {
			delete(t.byJob, id)
		}
	}
}

func progress(s core.JobStatus) int {
	switch s {
	case core.StatusPending:
		return 0
	case core.StatusDispatching:
		return 1
	case core.StatusTriggered:
		return 2
	case core.StatusRunning:
		return 3
	}
	return 4
}

// JobCreated implements queue.Events; auto-requeue copies are not followed
// (their comment's reply speaks of the first job only).
func (s *Service) JobCreated(core.Job) {}

// QueueChanged implements queue.Events; positions are not followed.
func (s *Service) QueueChanged(string) {}

// GroupChanged implements queue.Events.
func (s *Service) GroupChanged(string) {}

// JobChanged implements queue.Events (and events.JobListener): when a job
// queued from a comment was dispatched or ended, the comment gets 🚀 and our
// reply is edited. It returns at once; the paced writes run in the
// background.
func (s *Service) JobChanged(j core.Job) {
	if j.Source != core.JobSourceComment {
		return
	}
	r, ok := s.track.update(j)
	if !ok {
		return
	}
	s.goBackground(func(ctx context.Context) {
		if err := s.syncReply(ctx, r); err != nil {
			s.log.Warn().Err(err).Int64("job", j.ID).Str("status", string(j.Status)).
				Int64("installation", r.c.InstallationID).Msg("could not update the reply of a comment job")
		}
	})
}

// syncReply brings GitHub up to date with r: 🚀 on the comment once a job
// was dispatched, then the reply re-rendered from the jobs' latest states.
// Both decide what to write inside their paced slot, so writes racing for
// the same reply never put an older state over a newer one.
func (s *Service) syncReply(ctx context.Context, r *reply) error {
	c := r.c
	err := s.pace.do(ctx, c.InstallationID, func(ctx context.Context) (bool, error) {
		s.track.mu.Lock()
		send := r.id != 0 && !r.rocket && r.dispatched()
		if send {
			r.rocket = true
		}
		s.track.mu.Unlock()
		if !send {
			return false, nil
		}
		if err := s.opts.GitHub.AddReaction(ctx, c.InstallationID, c.Owner, c.Repo, c.CommentID, "rocket"); err != nil {
			s.track.mu.Lock()
			r.rocket = false
			s.track.mu.Unlock()
			return true, err
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("react rocket to comment %d: %w", c.CommentID, err)
	}
	var finished bool
	err = s.pace.do(ctx, c.InstallationID, func(ctx context.Context) (bool, error) {
		s.track.mu.Lock()
		id, body := r.id, s.render(r)
		stale := id != 0 && body != r.written
		finished = id != 0 && !stale && r.done()
		s.track.mu.Unlock()
		if !stale {
			return false, nil
		}
		if err := s.opts.GitHub.EditComment(ctx, c.InstallationID, c.Owner, c.Repo, id, body); err != nil {
			return true, err
		}
		s.track.mu.Lock()
		r.written = body
		finished = r.done() && s.render(r) == body
		s.track.mu.Unlock()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("edit reply to comment %d: %w", c.CommentID, err)
	}
	if finished {
		s.track.forget(r)
	}
	return nil
}

var _ queue.Events = (*Service)(nil)
