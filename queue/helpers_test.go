package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// recorder is an Events fake that keeps what it was told, in order.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

func (r *recorder) JobCreated(j core.Job) { r.add(fmt.Sprintf("new %d %s", j.ID, j.Status)) }
func (r *recorder) JobChanged(j core.Job) { r.add(fmt.Sprintf("job %d %s", j.ID, j.Status)) }
func (r *recorder) QueueChanged(g string) { r.add("queue " + g) }
func (r *recorder) GroupChanged(g string) { r.add("group " + g) }
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// canceller is a Canceller fake: it records calls and returns err.
type canceller struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (c *canceller) CancelRun(_ context.Context, owner, repo string, runID int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf("%s/%s#%d", owner, repo, runID))
	return c.err
}

type fixture struct {
	svc    *queue.Service
	store  *store.Store
	events *recorder
	gh     *canceller
	now    time.Time
}

var (
	groupA = core.Group{ID: "alpha", Name: "Alpha", RunnerLabels: []string{"self-hosted", "alpha"}}
	groupB = core.Group{ID: "beta", Name: "Beta", RunnerLabels: []string{"self-hosted", "beta"}}
	tmplA  = core.Template{ID: "a1", GroupID: "alpha", Name: "A one", Owner: "o", Repo: "r", WorkflowID: "a.yml", Ref: "main",
		Inputs: map[string]string{"net": "hoodi", "size": "s"}, Labels: map[string]string{"el": "geth"}}
	tmplB = core.Template{ID: "b1", GroupID: "beta", Name: "B one", Owner: "o", Repo: "r2", WorkflowID: "b.yml", Ref: "main"}
)

func newFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	f := &fixture{store: s, events: &recorder{}, gh: &canceller{}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.SetClock(func() time.Time { return f.now })
	if _, err := s.SyncConfig(context.Background(), []core.Group{groupA, groupB}, []core.Template{tmplA, tmplB}); err != nil {
		t.Fatal(err)
	}
	svc, err := queue.New(queue.Options{Store: s, Events: f.events, Canceller: f.gh, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func (f *fixture) enqueue(t *testing.T, req queue.EnqueueRequest) core.Job {
	t.Helper()
	if req.GroupID == "" {
		req.GroupID = "alpha"
	}
	if req.TemplateID == "" && req.Owner == "" {
		req.TemplateID = "a1"
	}
	if req.Source == "" {
		req.Source = core.JobSourceAPI
	}
	j, err := f.svc.Enqueue(context.Background(), req)
	if err != nil {
		t.Fatalf("enqueue %+v: %v", req, err)
	}
	return j
}

// run takes a pending job through dispatch to running with a run id.
func (f *fixture) run(t *testing.T, id int64, upTo core.JobStatus) core.Job {
	t.Helper()
	ctx := context.Background()
	j, err := f.store.Transition(ctx, store.TransitionRequest{JobID: id, From: core.StatusPending, To: core.StatusDispatching, NewAttemptID: fmt.Sprintf("att-%d-%d", id, f.now.UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	if upTo == core.StatusDispatching {
		return j
	}
	if j, err = f.store.Transition(ctx, store.TransitionRequest{JobID: id, From: core.StatusDispatching, To: core.StatusTriggered,
		RunID: 7000 + id, RunURL: fmt.Sprintf("https://github.com/o/r/actions/runs/%d", 7000+id)}); err != nil {
		t.Fatal(err)
	}
	if upTo == core.StatusTriggered {
		return j
	}
	if j, err = f.store.Transition(ctx, store.TransitionRequest{JobID: id, From: core.StatusTriggered, To: core.StatusRunning, RunnerName: "r-1"}); err != nil {
		t.Fatal(err)
	}
	return j
}

func (f *fixture) pending(t *testing.T, group string) []int64 {
	t.Helper()
	page, err := f.store.ListQueue(context.Background(), store.QueueQuery{GroupID: group, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, j := range page.Items {
		if j.Status == core.StatusPending {
			ids = append(ids, j.ID)
		}
	}
	return ids
}
