package handlers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/conformance"
)

// The real payloads of @octokit/webhooks-examples go through the endpoint,
// signed, each on a fresh store, and each has its effect.

// example is what the assertions need to know about a payload.
type example struct {
	Action      string `json:"action"`
	WorkflowJob *struct {
		ID              int64    `json:"id"`
		RunID           int64    `json:"run_id"`
		Status          string   `json:"status"`
		Labels          []string `json:"labels"`
		RunnerID        int64    `json:"runner_id"`
		RunnerGroupName string   `json:"runner_group_name"`
	} `json:"workflow_job"`
	WorkflowRun *struct {
		ID         int64  `json:"id"`
		Status     string `json:"status"`
		Conclusion string `json:"conclusion"`
	} `json:"workflow_run"`
	Installation *struct {
		ID      int64 `json:"id"`
		Account struct {
			Login string `json:"login"`
		} `json:"account"`
		RepositorySelection string `json:"repository_selection"`
	} `json:"installation"`
	Repositories []struct {
		FullName string `json:"full_name"`
	} `json:"repositories"`
	RepositoriesAdded []struct {
		FullName string `json:"full_name"`
	} `json:"repositories_added"`
	RepositoriesRemoved []struct {
		FullName string `json:"full_name"`
	} `json:"repositories_removed"`
}

func eachExample(t *testing.T, event string, fn func(t *testing.T, h *harness, ex example, raw []byte)) {
	t.Helper()
	examples := conformance.Examples(t, event)
	for i, e := range examples {
		var ex example
		if err := json.Unmarshal(e.Payload, &ex); err != nil {
			t.Fatalf("%s example %d: %v", event, i, err)
		}
		t.Run(fmt.Sprintf("%d_%s", i, e.Action), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				h := newHarness(t, s)
				h.seedGroups()
				fn(t, h, ex, e.Payload)
			})
		})
	}
}

func TestExamplesWorkflowJob(t *testing.T) {
	eachExample(t, "workflow_job", func(t *testing.T, h *harness, ex example, raw []byte) {
		wj := ex.WorkflowJob
		hosted := wj.RunnerGroupName == "GitHub Actions"
		if wj.Status == "completed" && wj.RunnerID != 0 {
			// A runner we track, busy with this job: the completion frees it.
			h.addRunner(wj.RunnerID, false)
			if _, err := h.s.MarkRunnerBusy(ctx, wj.RunnerID, wj.ID); err != nil {
				t.Fatal(err)
			}
		}
		h.post("workflow_job", raw)
		gj, err := h.s.GetGitHubJob(ctx, wj.ID)
		if err != nil {
			t.Fatalf("github job not stored: %v", err)
		}
		if string(gj.Status) != wj.Status || gj.RunID != wj.RunID || !slices.Equal(gj.Labels, core.NormalizeLabels(wj.Labels)) {
			t.Fatalf("stored %+v, want status %s labels %v", gj, wj.Status, wj.Labels)
		}
		switch wj.Status {
		case "in_progress":
			r, err := h.s.GetRunner(ctx, wj.RunnerID)
			if hosted {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("GitHub-hosted runner tracked: %+v %v", r, err)
				}
				return
			}
			if err != nil || !r.Busy || r.CurrentJobID != wj.ID || !r.Ephemeral {
				t.Fatalf("runner %+v %v, want busy (ephemeral, first seen) with job %d", r, err, wj.ID)
			}
			if len(h.f.schedules()) != 1 {
				t.Fatalf("unknown runner: reconcile schedules %v", h.f.schedules())
			}
		case "completed":
			if r := h.runner(wj.RunnerID); r.Busy {
				t.Fatalf("runner still busy after completed: %+v", r)
			}
		default:
			q, err := h.s.QueuedGitHubJobs(ctx)
			if err != nil || len(q) != 1 || q[0].ID != wj.ID {
				t.Fatalf("queued demand %+v %v, want job %d", q, err, wj.ID)
			}
		}
	})
}

func TestExamplesWorkflowRun(t *testing.T) {
	eachExample(t, "workflow_run", func(t *testing.T, h *harness, ex example, raw []byte) {
		run := ex.WorkflowRun
		j := h.job(core.StatusTriggered, run.ID, false)
		h.post("workflow_run", raw)
		got := h.getJob(j.ID)
		switch run.Status {
		case "completed":
			want := core.StatusForConclusion(run.Conclusion)
			if got.Status != want || got.Conclusion != run.Conclusion {
				t.Fatalf("job %s %q, want %s %q", got.Status, got.Conclusion, want, run.Conclusion)
			}
		case "in_progress":
			if got.Status != core.StatusRunning {
				t.Fatalf("job %s, want running", got.Status)
			}
		default:
			if got.Status != core.StatusTriggered {
				t.Fatalf("job %s, want still triggered", got.Status)
			}
		}
	})
}

func TestExamplesInstallation(t *testing.T) {
	eachExample(t, "installation", func(t *testing.T, h *harness, ex example, raw []byte) {
		in := ex.Installation
		login := in.Account.Login
		switch ex.Action {
		case "deleted", "unsuspend":
			// Known before, so the event has something to change.
			at := time.Date(2021, 4, 29, 2, 32, 50, 0, time.UTC)
			seed := store.Installation{ID: in.ID, AccountLogin: login, RepositorySelection: "all"}
			if ex.Action == "unsuspend" {
				seed.SuspendedAt = &at
			}
			if err := h.s.UpsertInstallation(ctx, seed); err != nil {
				t.Fatal(err)
			}
		}
		h.post("installation", raw)
		if n := h.f.forgetCount(); n != 1 {
			t.Fatalf("installation cache emptied %d times, want once", n)
		}
		got, err := h.s.InstallationForOwner(ctx, login)
		switch ex.Action {
		case "deleted":
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("deleted installation still found: %+v %v", got, err)
			}
		case "suspend":
			if !errors.Is(err, store.ErrInstallationSuspended) {
				t.Fatalf("suspended installation usable: %+v %v", got, err)
			}
		default: // created, new_permissions_accepted, unsuspend
			if err != nil || got.ID != in.ID || !got.Active() {
				t.Fatalf("installation %+v %v, want %d active", got, err, in.ID)
			}
			if ex.Action == "created" && in.RepositorySelection == "selected" {
				assertRepos(t, h, in.ID, names(ex.Repositories))
			}
		}
	})
}

func TestExamplesInstallationRepositories(t *testing.T) {
	eachExample(t, "installation_repositories", func(t *testing.T, h *harness, ex example, raw []byte) {
		in := ex.Installation
		if len(ex.RepositoriesRemoved) > 0 {
			if err := h.s.UpsertInstallation(ctx, store.Installation{ID: in.ID, AccountLogin: in.Account.Login, RepositorySelection: "selected"}); err != nil {
				t.Fatal(err)
			}
			var refs []store.RepoRef
			for _, r := range ex.RepositoriesRemoved {
				o, n, _ := strings.Cut(r.FullName, "/")
				refs = append(refs, store.RepoRef{Owner: o, Repo: n})
			}
			if err := h.s.AddInstallationRepos(ctx, in.ID, refs); err != nil {
				t.Fatal(err)
			}
		}
		h.post("installation_repositories", raw)
		if n := h.f.forgetCount(); n != 1 {
			t.Fatalf("installation cache emptied %d times, want once", n)
		}
		assertRepos(t, h, in.ID, names(ex.RepositoriesAdded))
	})
}

func TestExamplesPing(t *testing.T) {
	eachExample(t, "ping", func(t *testing.T, h *harness, _ example, raw []byte) {
		r := h.post("ping", raw)
		if r.Body["event"] != "ping" || h.deliveriesStored() != 1 {
			t.Fatalf("ping reply %v, %d deliveries recorded", r.Body, h.deliveriesStored())
		}
		if n := h.f.forgetCount(); n != 0 {
			t.Fatalf("a ping emptied the installation cache %d times", n)
		}
	})
}

func names(rs []struct {
	FullName string `json:"full_name"`
}) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, strings.ToLower(r.FullName))
	}
	slices.Sort(out)
	return out
}

func assertRepos(t *testing.T, h *harness, id int64, want []string) {
	t.Helper()
	repos, err := h.s.ListInstallationRepos(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range repos {
		got = append(got, r.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("installation %d repositories %v, want %v", id, got, want)
	}
}
