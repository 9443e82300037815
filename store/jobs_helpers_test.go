package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// newTestClock gives s a settable clock (the one fakeClock of these tests).
func newTestClock(s *store.Store) *fakeClock {
	c := newFakeClock()
	s.SetClock(c.Now)
	return c
}

var (
	groupA = core.Group{ID: "alpha", Name: "Alpha", RunnerLabels: []string{"self-hosted", "alpha"}, RunnerScope: "org:o", MaxConcurrent: 3}
	groupB = core.Group{ID: "beta", Name: "Beta", RunnerLabels: []string{"self-hosted", "beta"}}
	tmplA1 = core.Template{ID: "a1", GroupID: "alpha", Name: "A one", Owner: "o", Repo: "r", WorkflowID: "a.yml", Ref: "main",
		Inputs: map[string]string{"net": "hoodi"}, Labels: map[string]string{"el": "geth", "cl": "lighthouse"},
		Source: core.TemplateSource{Kind: core.SourceFile, Location: "templates/a.yaml"}}
	tmplB1 = core.Template{ID: "b1", GroupID: "beta", Name: "B one", Owner: "o", Repo: "r2", WorkflowID: "b.yml", Ref: "main"}
)

// seed syncs two groups and two templates into s.
func seed(t *testing.T, s *store.Store) {
	t.Helper()
	if _, err := s.SyncConfig(context.Background(), []core.Group{groupA, groupB}, []core.Template{tmplA1, tmplB1}); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func manualJob(group string) core.Job {
	return core.Job{GroupID: group, Name: "job", Owner: "o", Repo: "r", WorkflowID: "w.yml", Ref: "main",
		Inputs: map[string]string{"k": "v"}, Source: core.JobSourceAPI, CreatedBy: "tester"}
}

func insert(t *testing.T, s *store.Store, j core.Job, at store.Placement) core.Job {
	t.Helper()
	out, err := s.InsertJob(context.Background(), j, at)
	if err != nil {
		t.Fatalf("insert job: %v", err)
	}
	return out
}

// insertN appends n jobs to the bottom of group and returns their ids.
func insertN(t *testing.T, s *store.Store, group string, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = insert(t, s, manualJob(group), store.Placement{}).ID
	}
	return ids
}

// pendingOrder lists a group's pending job ids in queue order, paging
// through ListQueue with a small page size.
func pendingOrder(t *testing.T, s *store.Store, group string) []int64 {
	t.Helper()
	var ids []int64
	for _, j := range queueJobs(t, s, group) {
		if j.Status == core.StatusPending {
			ids = append(ids, j.ID)
		}
	}
	return ids
}

func queueJobs(t *testing.T, s *store.Store, group string) []core.Job {
	t.Helper()
	var out []core.Job
	cursor := ""
	for range 1000 {
		page, err := s.ListQueue(context.Background(), store.QueueQuery{GroupID: group, Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatalf("list queue: %v", err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
	t.Fatal("queue paging never ended")
	return nil
}

func positions(t *testing.T, s *store.Store, group string) map[int64]float64 {
	t.Helper()
	m := map[int64]float64{}
	for _, j := range queueJobs(t, s, group) {
		m[j.ID] = j.Position
	}
	return m
}

// walk moves a job along a path of statuses, failing the test on error.
func walk(t *testing.T, s *store.Store, id int64, path ...core.JobStatus) core.Job {
	t.Helper()
	ctx := context.Background()
	j, err := s.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range path {
		req := store.TransitionRequest{JobID: id, From: j.Status, To: to}
		switch to {
		case core.StatusDispatching:
			req.NewAttemptID = fmt.Sprintf("att-%d-%s", id, rand.Text())
		case core.StatusTriggered:
			req.RunID = 1000 + id
			req.RunURL = "https://github.com/o/r/actions/runs/1"
		}
		if j, err = s.Transition(ctx, req); err != nil {
			t.Fatalf("walk job %d to %s: %v", id, to, err)
		}
	}
	return j
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
