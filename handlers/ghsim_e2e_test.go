package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// TestSimulatorEndToEnd dispatches a job to ghsim, lets its run engine send
// the signed webhooks GitHub would send to the real endpoint over HTTP, and
// checks the store ends where GitHub's run ended: job completed with the
// run's id and conclusion, runner idle, GitHub job completed. In GHES 3.19
// mode the dispatch returns no run id and the run is correlated from
// workflow_run (display_title carries the job id).
func TestSimulatorEndToEnd(t *testing.T) {
	for _, ghes := range []bool{false, true} {
		name := "github.com"
		if ghes {
			name = "ghes-3.19"
		}
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) { simEndToEnd(t, s, ghes) })
		})
	}
}

func simEndToEnd(t *testing.T, s *store.Store, ghes bool) {
	h := newHarness(t, s)
	s.SetClock(func() time.Time { return time.Now().UTC() }) // runs carry real timestamps
	h.seedGroups()
	srv := httptest.NewServer(h.h)
	t.Cleanup(srv.Close)

	sim := ghsimtest.New(t, ghsim.Options{Seed: 7, Speed: 50, WebhookSecret: secret, GHES319: ghes,
		JobDurationMin: 2 * time.Second, JobDurationMax: 2 * time.Second})
	sim.SetWebhookURL(srv.URL + handlers.Route)
	if _, err := sim.AddRepo(ghsim.Repo{Owner: "acme", Name: "infra", Workflows: []*ghsim.Workflow{{
		File: "sync.yml", Name: "Sync", RunsOn: []string{"self-hosted", "alpha"},
		Inputs: []ghsim.WorkflowInput{{Name: "dispatchoor_job_id"}}, RunNameInput: "dispatchoor_job_id",
	}}}); err != nil {
		t.Fatal(err)
	}
	ins, err := sim.AddInstallation(ghsim.Installation{Account: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	runnerID, err := sim.AddRunner(ghsim.Runner{Name: "r1", Scope: "org:acme", Labels: []string{"self-hosted", "alpha"}, Online: true})
	if err != nil {
		t.Fatal(err)
	}
	client, err := gh.New(gh.Options{APIURL: sim.APIURL(), AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	h.botFn = client.BotLogin

	// What the reconciler would do at start: list the scope's runners.
	runners, err := client.ListRunners(ctx, ins, "org:acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceScopeRunners(ctx, store.ScopeListing{Scope: "org:acme", InstallationID: ins, Runners: runners}); err != nil {
		t.Fatal(err)
	}

	// What the dispatcher would do: claim, dispatch, mark triggered.
	job := h.job(core.StatusDispatching, 0, false)
	res, err := client.Dispatch(ctx, gh.DispatchRequest{InstallationID: ins, Owner: "acme", Repo: "infra",
		WorkflowID: "sync.yml", Ref: "main", Inputs: map[string]string{"dispatchoor_job_id": strconv.FormatInt(job.ID, 10)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasRunDetails == ghes {
		t.Fatalf("run details %v in ghes=%v mode", res.HasRunDetails, ghes)
	}
	_, err = s.Transition(ctx, store.TransitionRequest{JobID: job.ID, From: core.StatusDispatching, To: core.StatusTriggered,
		AttemptID: job.AttemptID, RunID: res.RunID, RunURL: res.HTMLURL})
	if err != nil && !(ghes && errors.Is(err, store.ErrConflict)) {
		// Without run details the workflow_run webhook may have correlated
		// the run first; anything else is a failure.
		t.Fatal(err)
	}

	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for !h.getJob(job.ID).Status.Terminal() {
		select {
		case <-deadline.C:
			t.Fatalf("job never ended: %+v", h.getJob(job.ID))
		case <-time.After(20 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sim.WaitIdle(waitCtx); err != nil {
		t.Fatal(err)
	}

	runs := sim.Runs()
	if len(runs) != 1 {
		t.Fatalf("simulator has %d runs", len(runs))
	}
	got := h.getJob(job.ID)
	if got.Status != core.StatusCompleted || got.Conclusion != "success" || got.RunID != runs[0].ID || got.RunnerName != "r1" {
		t.Fatalf("job %+v, want completed/success on run %d by r1", got, runs[0].ID)
	}
	if r := h.runner(runnerID); r.Busy {
		t.Fatalf("runner still busy: %+v", r)
	}
	jobs := sim.Jobs()
	gj, err := s.GetGitHubJob(ctx, jobs[0].ID)
	if err != nil || gj.Status != store.GitHubJobCompleted || gj.JobID != job.ID {
		t.Fatalf("github job %+v %v", gj, err)
	}
	for _, d := range sim.Deliveries() {
		if !d.Delivered || d.StatusCode != http.StatusOK {
			t.Fatalf("delivery %s %s/%s answered %d: %s", d.GUID, d.Event, d.Action, d.StatusCode, d.ResponseBody)
		}
	}
}
