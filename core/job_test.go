package core

import (
	"errors"
	"fmt"
	"testing"
)

// allowed is the state machine of docs/ARCHITECTURE.md (Job states) written out by hand, so the
// test does not simply read back the table it checks.
var allowed = map[[2]JobStatus]string{
	{StatusPending, StatusDispatching}:   "leader claims a pending job",
	{StatusPending, StatusCancelled}:     "a pending job is withdrawn",
	{StatusPending, StatusFailed}:        "a job that can no longer be sent fails",
	{StatusDispatching, StatusPending}:   "transient error or no run after grace returns to the queue",
	{StatusDispatching, StatusTriggered}: "dispatch accepted",
	{StatusDispatching, StatusRunning}:   "adopted run already started",
	{StatusDispatching, StatusCompleted}: "adopted run already succeeded",
	{StatusDispatching, StatusFailed}:    "permanent dispatch error",
	{StatusDispatching, StatusCancelled}: "cancelled while dispatching",
	{StatusTriggered, StatusRunning}:     "runner picked the run up",
	{StatusTriggered, StatusCompleted}:   "run ended before its start was seen",
	{StatusTriggered, StatusFailed}:      "run failed before starting",
	{StatusTriggered, StatusCancelled}:   "run cancelled before starting",
	{StatusRunning, StatusCompleted}:     "run succeeded",
	{StatusRunning, StatusFailed}:        "run failed",
	{StatusRunning, StatusCancelled}:     "run cancelled",
}

func TestCheckTransitionEveryPair(t *testing.T) {
	if len(AllStatuses) != 7 {
		t.Fatalf("expected 7 statuses, got %d", len(AllStatuses))
	}
	for _, from := range AllStatuses {
		for _, to := range AllStatuses {
			why, ok := allowed[[2]JobStatus{from, to}]
			name := fmt.Sprintf("%s to %s is refused", from, to)
			if ok {
				name = fmt.Sprintf("%s to %s is allowed: %s", from, to, why)
			}
			t.Run(name, func(t *testing.T) {
				err := CheckTransition(from, to)
				if ok && err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				if !ok && !errors.Is(err, ErrTransition) {
					t.Fatalf("want ErrTransition, got %v", err)
				}
			})
		}
	}
}

func TestCheckTransitionTerminalAndSame(t *testing.T) {
	for _, s := range AllStatuses {
		if err := CheckTransition(s, s); !errors.Is(err, ErrTransition) {
			t.Errorf("%s to itself: want ErrTransition, got %v", s, err)
		}
		if !s.Terminal() {
			continue
		}
		for _, to := range AllStatuses {
			if err := CheckTransition(s, to); !errors.Is(err, ErrTransition) {
				t.Errorf("terminal %s to %s: want ErrTransition, got %v", s, to, err)
			}
		}
	}
	for _, tc := range []struct{ from, to JobStatus }{
		{"", StatusPending}, {StatusPending, ""}, {"queued", StatusRunning}, {StatusRunning, "done"},
	} {
		if err := CheckTransition(tc.from, tc.to); !errors.Is(err, ErrTransition) {
			t.Errorf("unknown status %q to %q: want ErrTransition, got %v", tc.from, tc.to, err)
		}
	}
}

func TestStatusPredicates(t *testing.T) {
	terminal := map[JobStatus]bool{StatusCompleted: true, StatusFailed: true, StatusCancelled: true}
	active := map[JobStatus]bool{StatusDispatching: true, StatusTriggered: true, StatusRunning: true}
	for _, s := range AllStatuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
		if s.Active() != active[s] {
			t.Errorf("%s.Active() = %v", s, s.Active())
		}
	}
	if JobStatus("Pending").Valid() {
		t.Error("status names are case-sensitive; Pending must not be valid")
	}
	for _, src := range []JobSource{JobSourceUI, JobSourceAPI, JobSourceComment} {
		if !src.Valid() {
			t.Errorf("source %s not valid", src)
		}
	}
	if JobSource("webhook").Valid() {
		t.Error("unknown source accepted")
	}
}

func TestCheckPause(t *testing.T) {
	for _, s := range AllStatuses {
		err := CheckPause(s)
		if s == StatusPending && err != nil {
			t.Errorf("pending job cannot be paused: %v", err)
		}
		if s != StatusPending && !errors.Is(err, ErrTransition) {
			t.Errorf("%s job: want ErrTransition, got %v", s, err)
		}
	}
}

func TestStatusForConclusion(t *testing.T) {
	tests := map[string]JobStatus{
		"success":         StatusCompleted,
		"neutral":         StatusCompleted,
		"skipped":         StatusCompleted,
		"failure":         StatusFailed,
		"timed_out":       StatusFailed,
		"startup_failure": StatusFailed,
		"action_required": StatusFailed,
		"stale":           StatusFailed,
		"cancelled":       StatusCancelled,
		"":                StatusFailed,
		"brand_new_value": StatusFailed,
	}
	for c, want := range tests {
		t.Run(fmt.Sprintf("conclusion %q is %s", c, want), func(t *testing.T) {
			got := StatusForConclusion(c)
			if got != want {
				t.Fatalf("got %s", got)
			}
			if !got.Terminal() {
				t.Fatalf("%s is not terminal: a job would hang", got)
			}
		})
	}
}

func TestShouldRequeue(t *testing.T) {
	ran := func(s JobStatus, limit, count int) Job {
		return Job{Status: s, AutoRequeue: true, RequeueLimit: limit, RequeueCount: count, RunID: 42}
	}
	tests := []struct {
		name string
		job  Job
		want bool
	}{
		{"completed under limit is requeued", ran(StatusCompleted, 3, 2), true},
		{"completed at limit is not requeued", ran(StatusCompleted, 3, 3), false},
		{"count past limit is not requeued", ran(StatusCompleted, 3, 7), false},
		{"limit 0 means unlimited", ran(StatusCompleted, 0, 1000), true},
		{"failed run is requeued", ran(StatusFailed, 0, 0), true},
		{"cancelled run is requeued", ran(StatusCancelled, 5, 0), true},
		{"failed without a run is never requeued", Job{Status: StatusFailed, AutoRequeue: true}, false},
		{"withdrawn pending job is never requeued", Job{Status: StatusCancelled, AutoRequeue: true}, false},
		{"auto-requeue off", Job{Status: StatusCompleted, RunID: 1}, false},
		{"running is not terminal", ran(StatusRunning, 0, 0), false},
		{"triggered is not terminal", ran(StatusTriggered, 0, 0), false},
		{"pending is not terminal", ran(StatusPending, 0, 0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShouldRequeue(tc.job); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}
