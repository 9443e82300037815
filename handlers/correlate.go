package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// correlate finds which of our jobs dispatched a run we do not know by id:
// on GitHub Enterprise Server before 3.20 a dispatch answers 204 without run
// details (docs/ARCHITECTURE.md, Dispatch protocol). A run is only ever claimed when it was dispatched
// by the App itself (event workflow_dispatch, actor our bot): someone's
// manual run of the same workflow must never be taken for ours. The match
// itself is core.CorrelateRun's; here are the look-ups around it. It
// returns the zero Job when nothing matches.
func (b *base) correlate(ctx context.Context, q *store.Q, ev *github.WorkflowRunEvent, bot string, log zerolog.Logger) (core.Job, error) {
	run := ev.GetWorkflowRun()
	if bot == "" || run.GetEvent() != "workflow_dispatch" || !strings.EqualFold(run.GetActor().GetLogin(), bot) {
		return core.Job{}, nil
	}
	jobs, err := q.ListJobsByStatus(ctx, core.StatusDispatching, core.StatusTriggered)
	if err != nil {
		return core.Job{}, err
	}
	owner, repo, _ := strings.Cut(ev.GetRepo().GetFullName(), "/")
	p := run.GetPath()
	if p == "" {
		p = ev.GetWorkflow().GetPath()
	}
	c := core.CorrelateRun(jobs, core.RunFacts{
		Owner: owner, Repo: repo, DisplayTitle: run.GetDisplayTitle(), CreatedAt: run.GetCreatedAt().Time,
		WorkflowID: run.GetWorkflowID(), Path: p, HeadBranch: run.GetHeadBranch(),
	}, b.correlationSkew)
	if c.ByTitle {
		log.Info().Int64("job", c.Job.ID).Msg("run correlated by its display_title")
		return c.Job, nil
	}
	if c.TitleJobID != 0 {
		// The title names one of our jobs that no longer waits for a run
		// (it has one, or ended): this run is that job's, not another's.
		if _, err := q.GetJob(ctx, c.TitleJobID); err == nil {
			log.Warn().Int64("job", c.TitleJobID).Msg("run names a job that is not waiting for a run; not correlated")
			return core.Job{}, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return core.Job{}, err
		}
	}
	switch {
	case c.Job.ID != 0:
		log.Info().Int64("job", c.Job.ID).Msg("run correlated: the only job that fits its workflow, branch and time")
	case len(c.Ambiguous) > 0:
		log.Warn().Ints64("jobs", c.Ambiguous).
			Msg("run fits several of our jobs and has no job id as display_title; not correlated (set run-name: ${{ inputs.dispatchoor_job_id }})")
	}
	return c.Job, nil
}
