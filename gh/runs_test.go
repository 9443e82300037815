package gh_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
)

func TestRunsGetListAndJobs(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := ctxT(t)
	before := w.sim.Now().Add(-time.Second)
	var ids []int64
	for range 3 {
		res, err := w.client.Dispatch(ctx, dispatchReq(w))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.RunID)
	}
	bot, err := w.client.BotLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}

	run, err := w.client.GetRun(ctx, w.inst, "acme", "app", ids[0])
	if err != nil {
		t.Fatalf("get run: %v", err)
	}
	if run.ID != ids[0] || run.Event != "workflow_dispatch" || run.Path != ".github/workflows/sync.yml" ||
		run.Actor != bot || run.HeadBranch != "main" || run.DisplayTitle != "job-42" || run.Status == "" ||
		run.HTMLURL == "" || run.CreatedAt.IsZero() || run.UpdatedAt.IsZero() {
		t.Errorf("run = %+v, want our dispatched run with its fields", run)
	}

	t.Run("filters reach GitHub and select our runs", func(t *testing.T) {
		runs, err := w.client.ListRuns(ctx, w.inst, "acme", "app", gh.RunFilter{
			WorkflowID: "sync.yml", Event: "workflow_dispatch", Actor: bot, Branch: "main", CreatedAfter: before,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 3 {
			t.Fatalf("got %d runs, want 3", len(runs))
		}
		if runs[0].ID != ids[2] {
			t.Errorf("first run %d, want the newest %d", runs[0].ID, ids[2])
		}
		reqs := w.requests(http.MethodGet, "/actions/workflows/sync.yml/runs")
		q := reqs[len(reqs)-1].Query
		if !strings.HasPrefix(q.Get("created"), ">=") || q.Get("actor") != bot || q.Get("event") != "workflow_dispatch" {
			t.Errorf("query = %v, want created>=, actor and event filters", q)
		}
	})
	t.Run("created after excludes older runs", func(t *testing.T) {
		runs, err := w.client.ListRuns(ctx, w.inst, "acme", "app", gh.RunFilter{CreatedAfter: w.sim.Now().Add(time.Hour)})
		if err != nil || len(runs) != 0 {
			t.Errorf("got %d runs (err %v), want none", len(runs), err)
		}
	})
	t.Run("limit caps the result", func(t *testing.T) {
		runs, err := w.client.ListRuns(ctx, w.inst, "acme", "app", gh.RunFilter{Limit: 2})
		if err != nil || len(runs) != 2 {
			t.Errorf("got %d runs (err %v), want 2", len(runs), err)
		}
	})
	t.Run("unknown run is permanent", func(t *testing.T) {
		_, err := w.client.GetRun(ctx, w.inst, "acme", "app", 999999999)
		if !gh.IsPermanent(err) {
			t.Errorf("want a permanent 404, got %v", err)
		}
	})
}

func TestCancelRun(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := ctxT(t)
	res, err := w.client.Dispatch(ctx, dispatchReq(w))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.client.CancelRun(ctx, w.inst, "acme", "app", res.RunID); err != nil {
		t.Fatalf("cancel a queued run: %v", err)
	}
	reqs := w.requests(http.MethodPost, "/cancel")
	if len(reqs) != 1 || reqs[0].Status != http.StatusAccepted {
		t.Fatalf("want one 202 cancel, got %v", reqs)
	}
	run, _ := w.sim.GetRun(res.RunID)
	if run.Status != "completed" || run.Conclusion != "cancelled" {
		t.Fatalf("simulated run = %s/%s, want completed/cancelled", run.Status, run.Conclusion)
	}

	err = w.client.CancelRun(ctx, w.inst, "acme", "app", res.RunID)
	if !errors.Is(err, gh.ErrRunCompleted) {
		t.Fatalf("cancel a completed run: want ErrRunCompleted, got %v", err)
	}
	var ae *gh.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Errorf("want the 409 APIError kept in the chain, got %v", err)
	}
	if gh.IsTransient(err) {
		t.Error("a completed run cannot be cancelled later: not transient")
	}
}
