package core

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// JobStatus is where a job is in its life. See docs/ARCHITECTURE.md, Job states.
type JobStatus string

const (
	StatusPending     JobStatus = "pending"
	StatusDispatching JobStatus = "dispatching"
	StatusTriggered   JobStatus = "triggered"
	StatusRunning     JobStatus = "running"
	StatusCompleted   JobStatus = "completed"
	StatusFailed      JobStatus = "failed"
	StatusCancelled   JobStatus = "cancelled"
)

// AllStatuses lists every status in life order. Treat it as read-only.
var AllStatuses = []JobStatus{
	StatusPending, StatusDispatching, StatusTriggered, StatusRunning,
	StatusCompleted, StatusFailed, StatusCancelled,
}

// Valid reports whether s is a known status.
func (s JobStatus) Valid() bool {
	switch s {
	case StatusPending, StatusDispatching, StatusTriggered, StatusRunning,
		StatusCompleted, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Terminal reports whether no further transition is possible.
func (s JobStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Active reports whether a job holds (or is about to hold) a runner:
// dispatched but not finished. Active jobs count against max_concurrent.
func (s JobStatus) Active() bool {
	return s == StatusDispatching || s == StatusTriggered || s == StatusRunning
}

// JobSource says how a job entered the queue.
type JobSource string

const (
	JobSourceUI      JobSource = "ui"
	JobSourceAPI     JobSource = "api"
	JobSourceComment JobSource = "comment"
)

// Valid reports whether s is a known source.
func (s JobSource) Valid() bool {
	return s == JobSourceUI || s == JobSourceAPI || s == JobSourceComment
}

// Job is one queued workflow_dispatch. Field names are the API's and the
// database's (docs/API.md, Jobs).
type Job struct {
	ID           int64             `json:"id"`
	GroupID      string            `json:"group_id"`
	TemplateID   string            `json:"template_id,omitempty"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Repo         string            `json:"repo"`
	WorkflowID   string            `json:"workflow_id"`
	Ref          string            `json:"ref"`
	Inputs       map[string]string `json:"inputs"`
	Labels       map[string]string `json:"labels,omitempty"`
	Status       JobStatus         `json:"status"`
	Paused       bool              `json:"paused"`
	Position     float64           `json:"position"`
	AutoRequeue  bool              `json:"auto_requeue"`
	RequeueLimit int               `json:"requeue_limit"`
	RequeueCount int               `json:"requeue_count"`
	// AttemptID identifies the current dispatch attempt; it is what makes a
	// run recognisable after a crash between "dispatching" and "triggered".
	AttemptID  string    `json:"attempt_id,omitempty"`
	RunID      int64     `json:"run_id,omitempty"`
	RunURL     string    `json:"run_url,omitempty"`
	RunnerName string    `json:"runner_name,omitempty"`
	Conclusion string    `json:"conclusion,omitempty"`
	Error      string    `json:"error,omitempty"`
	Source     JobSource `json:"source"`
	SourceURL  string    `json:"source_url,omitempty"`
	CreatedBy  string    `json:"created_by"`
	// CancelRequested marks a triggered or running job whose cancel was sent
	// to GitHub and is waiting for GitHub to confirm it.
	CancelRequested bool       `json:"cancel_requested"`
	DispatchAfter   *time.Time `json:"dispatch_after,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	DispatchingAt   *time.Time `json:"dispatching_at,omitempty"`
	TriggeredAt     *time.Time `json:"triggered_at,omitempty"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	// LabelMismatch says which runs-on labels of the job's run no runner of
	// its group has ("" when none): the run then waits in GitHub's queue.
	LabelMismatch string `json:"label_mismatch,omitempty"`
}

// ErrTransition is returned for a state change the state machine refuses.
var ErrTransition = errors.New("transition not allowed")

// nextStatuses lists where a job may go from a status; terminal states
// lead nowhere.
//
// pending may fail without a dispatch when the job can no longer be sent at
// all (its template or group was removed from the config). dispatching may
// fall back to pending (transient error, or no run found after the grace
// period) and may jump ahead when a crashed attempt's run is adopted after it
// already started or ended. triggered never returns to pending: a run exists
// on GitHub, and queueing the job again could run it twice.
func nextStatuses(from JobStatus) []JobStatus {
	switch from {
	case StatusPending:
		return []JobStatus{StatusDispatching, StatusCancelled, StatusFailed}
	case StatusDispatching:
		return []JobStatus{StatusPending, StatusTriggered, StatusRunning, StatusCompleted, StatusFailed, StatusCancelled}
	case StatusTriggered:
		return []JobStatus{StatusRunning, StatusCompleted, StatusFailed, StatusCancelled}
	case StatusRunning:
		return []JobStatus{StatusCompleted, StatusFailed, StatusCancelled}
	}
	return nil
}

// CheckTransition accepts or refuses moving a job from one status to another.
// Terminal states are final and a status never "moves" to itself: callers
// that receive the same news twice (duplicate webhooks) see ErrTransition
// and treat it as already applied.
func CheckTransition(from, to JobStatus) error {
	if !from.Valid() || !to.Valid() {
		return fmt.Errorf("%w: unknown status %q -> %q", ErrTransition, from, to)
	}
	if slices.Contains(nextStatuses(from), to) {
		return nil
	}
	return fmt.Errorf("%w: %s -> %s", ErrTransition, from, to)
}

// CheckPause accepts or refuses pausing or unpausing a job: only pending jobs
// carry the paused flag.
func CheckPause(status JobStatus) error {
	if status != StatusPending {
		return fmt.Errorf("%w: only pending jobs can be paused or unpaused, job is %s", ErrTransition, status)
	}
	return nil
}

// StatusForConclusion maps a workflow run's conclusion to a terminal status.
// An unknown conclusion (GitHub adds new ones) fails the job rather than
// leaving it running forever; the raw conclusion is kept beside it.
func StatusForConclusion(conclusion string) JobStatus {
	switch conclusion {
	case "success", "neutral", "skipped":
		return StatusCompleted
	case "cancelled":
		return StatusCancelled
	default: // failure, timed_out, startup_failure, action_required, stale, unknown
		return StatusFailed
	}
}

// ShouldRequeue decides whether a job that reached a terminal state gets a
// copy at the bottom of its queue. RequeueLimit 0 means no limit: the job is
// requeued every time until auto-requeue is switched off; a positive limit
// stops once RequeueCount reaches it.
//
// A job that never got a workflow run (RunID 0) is never requeued: either
// the dispatch failed permanently (a 404 workflow must not become a job per
// cycle) or someone withdrew it from the queue before it was sent, which is
// not a request to queue it again.
func ShouldRequeue(j Job) bool {
	if !j.AutoRequeue || !j.Status.Terminal() || j.RunID == 0 {
		return false
	}
	if j.RequeueLimit > 0 && j.RequeueCount >= j.RequeueLimit {
		return false
	}
	return true
}
