package handlers

import (
	"context"
	"errors"
	"path"
	"strconv"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// correlate finds which of our jobs dispatched a run we do not know by id:
// on GitHub Enterprise Server before 3.20 a dispatch answers 204 without run
// details (DESIGN.md §5). A run is only ever claimed when it was dispatched
// by the App itself (event workflow_dispatch, actor our bot): someone's
// manual run of the same workflow must never be taken for ours. Among our
// jobs still waiting for their run, one whose id is the run's display_title
// (run-name: ${{ inputs.dispatchoor_job_id }}) is matched beyond doubt;
// otherwise the run must fit exactly one job by workflow file, branch and
// creation after the job's dispatch. Two fitting jobs are refused: guessing
// could swap their runs. It returns the zero Job when nothing matches.
func (b *base) correlate(ctx context.Context, q *store.Q, ev *github.WorkflowRunEvent, bot string, log zerolog.Logger) (core.Job, error) {
	run := ev.GetWorkflowRun()
	if bot == "" || run.GetEvent() != "workflow_dispatch" || !strings.EqualFold(run.GetActor().GetLogin(), bot) {
		return core.Job{}, nil
	}
	owner, repo, _ := strings.Cut(ev.GetRepo().GetFullName(), "/")
	jobs, err := q.ListJobsByStatus(ctx, core.StatusDispatching, core.StatusTriggered)
	if err != nil {
		return core.Job{}, err
	}
	var waiting []core.Job
	for _, j := range jobs {
		if j.RunID == 0 && strings.EqualFold(j.Owner, owner) && strings.EqualFold(j.Repo, repo) {
			waiting = append(waiting, j)
		}
	}
	title := strings.TrimSpace(run.GetDisplayTitle())
	for _, j := range waiting {
		if title == strconv.FormatInt(j.ID, 10) {
			log.Info().Int64("job", j.ID).Msg("run correlated by its display_title")
			return j, nil
		}
	}
	if id, err := strconv.ParseInt(title, 10, 64); err == nil && id > 0 {
		// The title names one of our jobs that no longer waits for a run
		// (it has one, or ended): this run is that job's, not another's.
		if _, err := q.GetJob(ctx, id); err == nil {
			log.Warn().Int64("job", id).Msg("run names a job that is not waiting for a run; not correlated")
			return core.Job{}, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return core.Job{}, err
		}
	}
	created := run.GetCreatedAt().Time
	var fits []core.Job
	for _, j := range waiting {
		if j.DispatchingAt == nil || created.Before(j.DispatchingAt.Add(-b.correlationSkew)) {
			continue
		}
		if sameWorkflow(j.WorkflowID, run, ev.GetWorkflow()) && sameRef(j.Ref, run.GetHeadBranch()) {
			fits = append(fits, j)
		}
	}
	switch len(fits) {
	case 0:
		return core.Job{}, nil
	case 1:
		log.Info().Int64("job", fits[0].ID).Msg("run correlated: the only job that fits its workflow, branch and time")
		return fits[0], nil
	}
	ids := make([]int64, len(fits))
	for i, j := range fits {
		ids[i] = j.ID
	}
	log.Warn().Ints64("jobs", ids).
		Msg("run fits several of our jobs and has no job id as display_title; not correlated (set run-name: ${{ inputs.dispatchoor_job_id }})")
	return core.Job{}, nil
}

// sameWorkflow: a job names its workflow by file name, path or numeric id.
func sameWorkflow(workflowID string, run *github.WorkflowRun, wf *github.Workflow) bool {
	if id, err := strconv.ParseInt(workflowID, 10, 64); err == nil {
		return id == run.GetWorkflowID()
	}
	p := run.GetPath()
	if p == "" {
		p = wf.GetPath()
	}
	// A path may carry "@ref" for reusable workflows; dispatches do not, but
	// compare the file part only.
	p, _, _ = strings.Cut(p, "@")
	return p != "" && path.Base(p) == path.Base(workflowID)
}

// sameRef: a dispatch ref may be a branch, a tag or a full ref; the run's
// head_branch is the short name.
func sameRef(ref, headBranch string) bool {
	ref = strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	return ref != "" && ref == headBranch
}
