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
	_, err := h.apply(ctx, deliveryID, eventType, ev.GetAction(), func(q *store.Q, fx *effects) error {
		return h.applyRun(ctx, q, fx, &ev, bot, log)
	})
	if err != nil {
		return fmt.Errorf("apply workflow_run %d (%s): %w", run.GetID(), run.GetStatus(), err)
	}
	if run.GetStatus() == "completed" {
		// Also for a duplicate delivery: finishing is idempotent, and a
		// redelivery is how a finish that failed after the commit is retried.
		return h.finish(ctx, run, log)
	}
	return nil
}

func (h *WorkflowRun) applyRun(ctx context.Context, q *store.Q, fx *effects, ev *github.WorkflowRunEvent, bot string, log zerolog.Logger) error {
	run := ev.GetWorkflowRun()
	job, err := q.FindJobByRunID(ctx, run.GetID())
	switch {
	case errors.Is(err, store.ErrNotFound):
		if job, err = h.correlate(ctx, q, ev, bot, log); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	completed := run.GetStatus() == "completed"
	if completed {
		// A run cancelled while its jobs waited may never send their
		// completed events; stale demand would shrink capacity forever.
		n, err := q.CompleteQueuedJobsOfRun(ctx, run.GetID(), run.GetConclusion())
		if err != nil {
			return err
		}
		if n > 0 {
			fx.wake("run completed with queued jobs")
		}
	}
	if job.ID == 0 {
		return nil
	}
	log = log.With().Int64("job", job.ID).Str("group", job.GroupID).Logger()
	req := store.TransitionRequest{}
	if job.RunID == 0 {
		// Correlated just now: the run facts come with the transition.
		req.RunID, req.RunURL = run.GetID(), run.GetHTMLURL()
		if _, err := q.LinkGitHubRunToJob(ctx, run.GetID(), job.ID); err != nil {
			return err
		}
	}
	switch run.GetStatus() {
	case "completed":
		if req.RunID == 0 {
			return nil // the queue service finishes it after the commit
		}
		// A correlated run that already ended still passes through running,
		// so the job carries its run id when the queue service finishes it
		// (and auto-requeue knows a run existed).
		return h.advance(ctx, q, fx, job, core.StatusRunning, req, log)
	case "in_progress":
		// GitHub sends this before the job's own in_progress, which names
		// the runner; use the name if the job's event came first.
		if req.RunnerName, err = runnerOfRun(ctx, q, run.GetID()); err != nil {
			return err
		}
		return h.advance(ctx, q, fx, job, core.StatusRunning, req, log)
	default: // requested, queued, pending, waiting
		if job.Status == core.StatusTriggered && req.RunID != 0 {
			// triggered without run details: no status change carries the
			// run id yet (store lacks an attach-run method); the next
			// event of this run correlates it again.
			log.Info().Msg("run correlated to a triggered job; run id is attached when it starts")
			return nil
		}
		return h.advance(ctx, q, fx, job, core.StatusTriggered, req, log)
	}
}

// finish ends our job of a completed run through the queue service, which
// maps the conclusion and requeues. It runs after the delivery's transaction
// because the queue service opens its own.
func (h *WorkflowRun) finish(ctx context.Context, run *github.WorkflowRun, log zerolog.Logger) error {
	job, err := h.store.FindJobByRunID(ctx, run.GetID())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finish run %d: %w", run.GetID(), err)
	}
	if job.Status.Terminal() {
		return nil
	}
	conclusion := run.GetConclusion()
	if conclusion == "" {
		log.Warn().Int64("job", job.ID).Msg("run completed without a conclusion; left to the reconciler")
		return nil
	}
	// The job may have gone running on the run's event, before its job's
	// event named the runner; record the name now.
	runner := ""
	if job.RunnerName == "" {
		if runner, err = runnerOfRun(ctx, h.store.Q, run.GetID()); err != nil {
			return fmt.Errorf("finish run %d: %w", run.GetID(), err)
		}
	}
	out, err := h.queue.Finish(ctx, job.ID, conclusion, runner)
	if errors.Is(err, core.ErrTransition) {
		return nil // finished meanwhile by another delivery or the reconciler
	}
	if err != nil {
		return fmt.Errorf("finish job %d of run %d with %s: %w", job.ID, run.GetID(), conclusion, err)
	}
	l := log.Info().Int64("job", job.ID).Str("group", job.GroupID).Str("conclusion", conclusion).
		Str("job_status", string(out.Job.Status))
	if out.Requeued != nil {
		l = l.Int64("requeued_as", out.Requeued.ID)
	}
	l.Msg("job finished by its run")
	h.waker.Wake("job finished")
	return nil
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
