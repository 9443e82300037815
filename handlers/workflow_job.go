package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// hostedRunnerGroup is the runner group GitHub reports for its own hosted
// runners ("GitHub Actions 5" in group "GitHub Actions", as in the
// @octokit/webhooks-examples payloads). They are not ours to track.
const hostedRunnerGroup = "GitHub Actions"

// WorkflowJob keeps runners busy/idle and GitHub-side demand current from
// workflow_job events, and moves our job to running when its run's job starts.
type WorkflowJob struct{ *base }

// Handles implements githubapp.EventHandler.
func (h *WorkflowJob) Handles() []string { return []string{"workflow_job"} }

// Handle implements githubapp.EventHandler.
func (h *WorkflowJob) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.WorkflowJobEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badPayload("decode workflow_job: %v", err)
	}
	wj := ev.GetWorkflowJob()
	repo := ev.GetRepo().GetFullName()
	if wj.GetID() <= 0 || wj.GetRunID() <= 0 {
		return badPayload("workflow_job without job id or run id")
	}
	if err := checkRepo("workflow_job", repo); err != nil {
		return err
	}
	status := store.GitHubJobStatus(wj.GetStatus())
	if _, ok := status.Rank(); !ok {
		// Older payloads put the news only in the action.
		status = store.GitHubJobStatus(ev.GetAction())
	}
	if _, ok := status.Rank(); !ok {
		return badPayload("workflow_job %d: unknown status %q (action %q)", wj.GetID(), wj.GetStatus(), ev.GetAction())
	}
	log := h.logger(ctx, ev.GetInstallation().GetID()).With().
		Int64("github_job", wj.GetID()).Int64("run", wj.GetRunID()).Str("status", string(status)).Logger()
	_, err := h.apply(ctx, deliveryID, eventType, ev.GetAction(), func(q *store.Q, fx *effects) error {
		return h.applyJob(ctx, q, fx, &ev, status, log)
	})
	if err != nil {
		return fmt.Errorf("apply workflow_job %d (%s) of run %d: %w", wj.GetID(), status, wj.GetRunID(), err)
	}
	return nil
}

func (h *WorkflowJob) applyJob(ctx context.Context, q *store.Q, fx *effects, ev *github.WorkflowJobEvent, status store.GitHubJobStatus, log zerolog.Logger) error {
	wj := ev.GetWorkflowJob()
	// One statement records the event monotonically and says which of our
	// jobs, if any, the run belongs to: most runs are not ours, and those
	// deliveries need no other read.
	jobID, applied, err := q.ApplyGitHubJobOfRun(ctx, store.GitHubJob{
		ID: wj.GetID(), RunID: wj.GetRunID(), RunAttempt: int(wj.GetRunAttempt()),
		Repo: ev.GetRepo().GetFullName(), WorkflowName: wj.GetWorkflowName(), Labels: wj.Labels,
		Status: status, Conclusion: wj.GetConclusion(), RunnerID: wj.GetRunnerID(),
		RunnerName: wj.GetRunnerName(), HeadBranch: wj.GetHeadBranch(),
	})
	if err != nil {
		return err
	}
	if !applied {
		// Older than what we know (e.g. in_progress after completed): acting
		// on it would make a runner busy with a finished job.
		log.Debug().Msg("stale workflow_job ignored")
		return nil
	}
	var ours core.Job
	if jobID != 0 {
		if ours, err = q.GetJob(ctx, jobID); err != nil {
			return err
		}
		log = log.With().Int64("job", ours.ID).Str("group", ours.GroupID).Logger()
	}
	switch status {
	case store.GitHubJobInProgress:
		if err := h.runnerBusy(ctx, q, fx, ev, log); err != nil {
			return err
		}
		if ours.ID != 0 {
			j, err := h.advance(ctx, q, fx, ours, core.StatusRunning, wj.GetRunnerName(), log)
			if err != nil {
				return err
			}
			return h.recordRunnerName(ctx, q, fx, j, wj.GetRunnerName())
		}
	case store.GitHubJobCompleted:
		return h.runnerDone(ctx, q, fx, ev, log)
	default: // queued, waiting, requested, pending: demand inside GitHub
		if ours.ID != 0 {
			return h.checkLabels(ctx, q, fx, ours, wj.Labels, log)
		}
	}
	return nil
}

// runnerBusy marks the job's runner busy, creating it first when we have
// never seen it: ephemeral runners register without any event, and the
// payload names the runner but not its labels, so its scope is re-listed soon.
func (h *WorkflowJob) runnerBusy(ctx context.Context, q *store.Q, fx *effects, ev *github.WorkflowJobEvent, log zerolog.Logger) error {
	wj := ev.GetWorkflowJob()
	id := wj.GetRunnerID()
	if id <= 0 {
		return nil
	}
	// The usual case, a known runner taking a new job, is one statement
	// that also returns what to announce.
	after, changed, err := q.StartRunnerJob(ctx, id, wj.GetID())
	if errors.Is(err, store.ErrNotFound) {
		if wj.GetRunnerGroupName() == hostedRunnerGroup {
			return nil
		}
		log := log.With().Int64("runner", id).Str("runner_name", wj.GetRunnerName()).Logger()
		scope, err := runnerScope(ctx, q, ev.GetRepo(), ev.GetOrg() != nil)
		if err != nil {
			return err
		}
		created, err := q.UpsertRunnerSeen(ctx, store.RunnerRecord{
			Runner:         core.Runner{ID: id, Name: wj.GetRunnerName(), Scope: scope, Status: core.RunnerOnline, Ephemeral: true},
			InstallationID: ev.GetInstallation().GetID(),
		})
		if err != nil {
			return err
		}
		if created {
			log.Info().Str("scope", scope).Str("runner_group", wj.GetRunnerGroupName()).
				Msg("unknown runner started a job; recorded it and scheduled a reconcile of its scope")
			fx.schedule(scope, h.anomalyDelay)
		}
		if after, changed, err = q.StartRunnerJob(ctx, id, wj.GetID()); err != nil {
			return err
		}
		// A runner that did not exist before changed, whatever happened next.
		changed = changed || created
	} else if err != nil {
		return err
	}
	if changed {
		fx.runnerChanged(after.Runner)
	}
	return nil
}

// noteRunner announces runner id after the commit if its state differs from
// before (the zero record: it did not exist), so listeners hear each change
// exactly once.
func noteRunner(ctx context.Context, q *store.Q, fx *effects, id int64, before store.RunnerRecord) error {
	after, err := q.GetRunner(ctx, id)
	if err != nil {
		return err
	}
	if before.ID != 0 && before.Status == after.Status && before.Busy == after.Busy &&
		before.CurrentJobID == after.CurrentJobID {
		return nil
	}
	fx.runnerChanged(after.Runner)
	return nil
}

// runnerDone frees the runner if it is still busy with this job (a late
// completed of an older job must not free a runner that took a newer one);
// an ephemeral runner goes offline instead of idle.
func (h *WorkflowJob) runnerDone(ctx context.Context, q *store.Q, fx *effects, ev *github.WorkflowJobEvent, log zerolog.Logger) error {
	wj := ev.GetWorkflowJob()
	id := wj.GetRunnerID()
	if id <= 0 {
		// Completed without ever starting (cancelled while queued): the
		// demand it represented is gone.
		fx.wake("github job left the queue")
		return nil
	}
	rec, err := q.GetRunner(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if wj.GetRunnerGroupName() == hostedRunnerGroup {
			return nil
		}
		// A runner we never saw finished: most likely ephemeral, and gone.
		scope, err := runnerScope(ctx, q, ev.GetRepo(), ev.GetOrg() != nil)
		if err != nil {
			return err
		}
		fx.schedule(scope, h.relistDelays...)
		return nil
	case err != nil:
		return err
	}
	if rec.Ephemeral {
		// The runner deregisters after this one job: marking it idle would
		// let capacity promise it to a dispatch nobody can take. It goes
		// offline in this transaction instead, and its replacement, which
		// registers without any webhook, is found by a re-list soon rather
		// than at the periodic reconcile. No wake-up now: the listing wakes
		// the dispatcher when the replacement appears.
		retired, err := q.RetireEphemeralRunner(ctx, id, wj.GetID())
		if err != nil {
			return err
		}
		if retired {
			if err := noteRunner(ctx, q, fx, id, rec); err != nil {
				return err
			}
		}
		fx.schedule(rec.Scope, h.relistDelays...)
		log.Debug().Int64("runner", id).Bool("retired", retired).Msg("ephemeral runner finished; marked offline, re-list scheduled")
		return nil
	}
	if rec.CurrentJobID != wj.GetID() {
		// Busy with another job (a late completed of an older one) or with
		// none: there is nothing to free, so no write. Only an in_progress
		// of this same job could make it current, and that delivery's
		// upsert of the job's row serialises with ours.
		return nil
	}
	after, freed, err := q.FreeRunnerOfJob(ctx, id, wj.GetID())
	if err != nil {
		return err
	}
	if freed {
		fx.wake("runner idle")
		if rec.Status != after.Status || rec.Busy != after.Busy || rec.CurrentJobID != after.CurrentJobID {
			fx.runnerChanged(after.Runner)
		}
	}
	return nil
}

// recordRunnerName names the runner on our job (see queue.NameRunnerTx).
// j is the job as this delivery left it (advance returns it), so the usual
// case, a transition to running that already named the runner, needs no
// read.
func (h *WorkflowJob) recordRunnerName(ctx context.Context, q *store.Q, fx *effects, j core.Job, name string) error {
	out, err := h.queue.NameRunnerTx(ctx, q, j, name)
	if err != nil {
		return err
	}
	if out.Changed() {
		fx.jobs = append(fx.jobs, out)
	}
	return nil
}

// advance moves our job towards to (see queue.AdvanceTx: news already had
// is tolerated) and returns it as stored.
func (b *base) advance(ctx context.Context, q *store.Q, fx *effects, job core.Job, to core.JobStatus, runnerName string, log zerolog.Logger) (core.Job, error) {
	from := job.Status
	out, err := b.queue.AdvanceTx(ctx, q, job, to, runnerName)
	if err != nil {
		return core.Job{}, err
	}
	if out.Changed() {
		log.Info().Str("from", string(from)).Str("to", string(to)).Int64("run", out.Job.RunID).Msg("job advanced")
		fx.jobs = append(fx.jobs, out)
	}
	return out.Job, nil
}

var _ githubapp.EventHandler = (*WorkflowJob)(nil)
