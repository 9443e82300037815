package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// Events receives notifications after a change has committed; the queue is
// the only announcer of job, queue and group changes, and the events router
// (package events) implements it. Implementations must return quickly
// (queue the work); they are called on the caller's goroutine.
type Events interface {
	// JobCreated: a job entered a queue (enqueued, or an auto-requeue copy).
	JobCreated(job core.Job)
	// JobChanged: a job changed state, position or settings.
	JobChanged(job core.Job)
	// QueueChanged: the set or order of a group's live jobs changed; the
	// dispatcher treats it as a wake-up.
	QueueChanged(groupID string)
	// GroupChanged: a group was paused or unpaused.
	GroupChanged(groupID string)
}

// Canceller cancels a workflow run on GitHub
// (POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel).
type Canceller interface {
	CancelRun(ctx context.Context, owner, repo string, runID int64) error
}

// Options configures a Service. Store is required; a nil Events is a no-op;
// a nil Canceller makes cancelling a triggered or running job an error.
type Options struct {
	Store     *store.Store
	Logger    zerolog.Logger
	Events    Events
	Canceller Canceller
	// Now is the clock for retention cut-offs; default time.Now.
	Now func() time.Time
}

// Service runs queue operations. Safe for concurrent use.
type Service struct {
	store     *store.Store
	log       zerolog.Logger
	events    Events
	canceller Canceller
	now       func() time.Time
}

// New builds a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("queue: a store is required")
	}
	s := &Service{
		store: opts.Store, log: opts.Logger.With().Str("component", "queue").Logger(),
		events: opts.Events, canceller: opts.Canceller, now: opts.Now,
	}
	if s.events == nil {
		s.events = nopEvents{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

type nopEvents struct{}

func (nopEvents) JobCreated(core.Job) {}
func (nopEvents) JobChanged(core.Job) {}
func (nopEvents) QueueChanged(string) {}
func (nopEvents) GroupChanged(string) {}

// ValidationError is a request the caller got wrong (HTTP 400). Err, when
// set, is the underlying cause (e.g. store.ErrInvalid).
type ValidationError struct {
	Field string
	Msg   string
	Err   error
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid request: " + e.Msg
	}
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Msg)
}

func (e *ValidationError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// asValidation turns the store's ErrInvalid into a ValidationError naming
// field, leaving other errors alone.
func asValidation(field string, err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return &ValidationError{Field: field, Msg: err.Error(), Err: err}
	}
	return err
}

// newAttemptID returns a random dispatch attempt id.
func newAttemptID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// GetJob returns one job.
func (s *Service) GetJob(ctx context.Context, id int64) (core.Job, error) {
	return s.store.GetJob(ctx, id)
}

// Queue returns a page of a group's live queue (active jobs, then pending
// jobs in order).
func (s *Service) Queue(ctx context.Context, q store.QueueQuery) (store.JobPage, error) {
	if _, err := s.store.GetGroup(ctx, q.GroupID); err != nil {
		return store.JobPage{}, err
	}
	p, err := s.store.ListQueue(ctx, q)
	return p, asValidation("cursor", err)
}
