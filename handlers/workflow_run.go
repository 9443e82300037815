package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// WorkflowRun follows our jobs' runs: triggered → running → a terminal state
// with the run's conclusion, and finds the run of a job dispatched without
// run details (GitHub Enterprise Server before 3.20).
type WorkflowRun struct{ *base }

// Handles implements githubapp.EventHandler.
func (h *WorkflowRun) Handles() []string { return []string{"workflow_run"} }

// Handle implements githubapp.EventHandler.
func (h *WorkflowRun) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.WorkflowRunEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badPayload("decode workflow_run: %v", err)
	}
	run := ev.GetWorkflowRun()
	if run.GetID() <= 0 {
		return badPayload("workflow_run without run id")
	}
	if err := checkRepo("workflow_run", ev.GetRepo().GetFullName()); err != nil {
		return err
	}
	log := h.logger(ctx, ev.GetInstallation().GetID()).With().
		Int64("run", run.GetID()).Str("status", run.GetStatus()).Logger()

	// The App's login is needed to recognise our own runs, and may need an
	// API call: resolve it before the transaction, never inside it.
	var bot string
	if h.botLogin != nil && run.GetEvent() == "workflow_dispatch" && strings.HasSuffix(run.GetActor().GetLogin(), "[bot]") {
		var err error
		if bot, err = h.botLogin(ctx); err != nil {
			return fmt.Errorf("workflow_run %d: resolve the App's bot login: %w", run.GetID(), err)
		}
	}
	// The job of a completed run is finished inside the delivery's
	// transaction (docs/ARCHITECTURE.md, Runner state from webhooks), so a failure rolls back the finish, the
	// requeued copy and the delivery record together and a redelivery
	// applies it once. Its events wait for the commit.
	fin := h.queue
	var finished *queue.Outcome
	_, err := h.apply(ctx, deliveryID, eventType, ev.GetAction(), func(q *store.Q, fx *effects) error {
		var err error
		finished, err = h.applyRun(ctx, q, fx, &ev, bot, fin, log)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply workflow_run %d (%s): %w", run.GetID(), run.GetStatus(), err)
	}
	if finished != nil {
		fin.Emit(*finished)
	}
	return nil
}

// applyRun applies one workflow_run event and returns the outcome of
// finishing our job, if it finished, for announcing after the commit.
func (h *WorkflowRun) applyRun(ctx context.Context, q *store.Q, fx *effects, ev *github.WorkflowRunEvent, bot string, fin Jobs, log zerolog.Logger) (*queue.Outcome, error) {
	run := ev.GetWorkflowRun()
	job, err := q.FindJobByRunID(ctx, run.GetID())
	correlated := false
	switch {
	case errors.Is(err, store.ErrNotFound):
		if job, err = h.correlate(ctx, q, ev, bot, log); err != nil {
			return nil, err
		}
		correlated = job.ID != 0
	case err != nil:
		return nil, err
	}
	if run.GetStatus() == "completed" {
		// A run cancelled while its jobs waited may never send their
		// completed events; stale demand would shrink capacity forever.
		n, err := q.CompleteQueuedJobsOfRun(ctx, run.GetID(), run.GetConclusion())
		if err != nil {
			return nil, err
		}
		if n > 0 {
			fx.wake("run completed with queued jobs")
		}
	}
	if job.ID == 0 {
		return nil, nil
	}
	log = log.With().Int64("job", job.ID).Str("group", job.GroupID).Logger()
	if correlated {
		if job, err = h.attachRun(ctx, q, fx, job, run, log); err != nil {
			return nil, err
		}
	}
	switch run.GetStatus() {
	case "completed":
		return h.finish(ctx, q, fx, fin, job, run, log)
	case "in_progress":
		if core.CheckTransition(job.Status, core.StatusRunning) != nil {
			return nil, nil // already running or ended: no need to look for the runner
		}
		// GitHub sends this before the job's own in_progress, which names
		// the runner; use the name if the job's event came first.
		runner, err := runnerOfRun(ctx, q, run.GetID())
		if err != nil {
			return nil, err
		}
		_, err = h.advance(ctx, q, fx, job, core.StatusRunning, runner, log)
		return nil, err
	default: // requested, queued, pending, waiting
		_, err := h.advance(ctx, q, fx, job, core.StatusTriggered, "", log)
		return nil, err
	}
}

// attachRun records a correlated run on its job at once, whatever the run's
// status: the run's workflow_job events then find the job (label checks,
// runner name) without waiting for the run to start. Jobs of the run that
// GitHub queued before this event arrived are label-checked now, since their
// own events found no job of ours.
func (h *WorkflowRun) attachRun(ctx context.Context, q *store.Q, fx *effects, job core.Job, run *github.WorkflowRun, log zerolog.Logger) (core.Job, error) {
	out, err := h.queue.AttachRunTx(ctx, q, job.ID, run.GetID(), run.GetHTMLURL())
	if err != nil {
		return core.Job{}, err
	}
	j := out.Job
	if _, err := q.LinkGitHubRunToJob(ctx, run.GetID(), j.ID); err != nil {
		return core.Job{}, err
	}
	log.Info().Str("job_status", string(j.Status)).Msg("run attached to its job")
	fx.jobs = append(fx.jobs, out)
	gjs, err := q.GitHubJobsOfRun(ctx, run.GetID())
	if err != nil {
		return core.Job{}, err
	}
	for _, gj := range gjs {
		if rank, _ := gj.Status.Rank(); rank == 0 {
			if err := h.checkLabels(ctx, q, fx, j, gj.Labels, log); err != nil {
				return core.Job{}, err
			}
		}
	}
	// checkLabels may have flagged the job; carry on with what is stored.
	return q.GetJob(ctx, j.ID)
}

// finish ends our job of a completed run with the run's conclusion (mapping
// and auto-requeue happen in the queue service) on the delivery's
// transaction. A job already ended (a duplicate event, the reconciler) is
// left alone.
func (h *WorkflowRun) finish(ctx context.Context, q *store.Q, fx *effects, fin Jobs, job core.Job, run *github.WorkflowRun, log zerolog.Logger) (*queue.Outcome, error) {
	if job.Status.Terminal() {
		return nil, nil
	}
	conclusion := run.GetConclusion()
	if conclusion == "" {
		log.Warn().Msg("run completed without a conclusion; left to the reconciler")
		return nil, nil
	}
	// The job may have gone running on the run's event, before its job's
	// event named the runner; record the name now.
	runner := ""
	if job.RunnerName == "" {
		var err error
		if runner, err = runnerOfRun(ctx, q, run.GetID()); err != nil {
			return nil, err
		}
	}
	out, err := fin.FinishTx(ctx, q, job.ID, conclusion, runner)
	if errors.Is(err, core.ErrTransition) {
		return nil, nil // e.g. still pending: nothing of ours to end
	}
	if err != nil {
		return nil, fmt.Errorf("finish job %d with %s: %w", job.ID, conclusion, err)
	}
	fx.wake("job finished") // the queue service logs it when the outcome is emitted
	return &out, nil
}

// runnerOfRun names the runner that took the run's latest started job, ""
// when none is known yet.
func runnerOfRun(ctx context.Context, q *store.Q, runID int64) (string, error) {
	jobs, err := q.GitHubJobsOfRun(ctx, runID)
	if err != nil {
		return "", err
	}
	name := ""
	for _, j := range jobs {
		if j.RunnerName != "" {
			name = j.RunnerName
		}
	}
	return name, nil
}

var _ githubapp.EventHandler = (*WorkflowRun)(nil)
