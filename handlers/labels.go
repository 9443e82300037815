package handlers

import (
	"context"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// runnerScope guesses the scope of a runner a webhook mentions: the payload
// says which repository ran the job, not where the runner is registered. A
// group configured for that repository's runners wins; otherwise an
// organization's repository is served by org runners, and a user's
// repository can only have repository runners. The reconcile that follows
// moves the runner if the guess was wrong.
func runnerScope(ctx context.Context, q *store.Q, repo *github.Repository, orgEvent bool) (string, error) {
	full := repo.GetFullName()
	groups, err := q.ListGroups(ctx)
	if err != nil {
		return "", err
	}
	for _, g := range groups {
		if strings.EqualFold(g.RunnerScope, "repo:"+full) {
			return g.RunnerScope, nil
		}
	}
	owner, _, _ := strings.Cut(full, "/") // checked to be owner/name
	if orgEvent || repo.GetOwner().GetType() == "Organization" {
		return "org:" + owner, nil
	}
	return "repo:" + full, nil
}

// checkLabels has the queue compare the runs-on labels of our job's queued
// GitHub job with the runners of the job's group and flag (or clear) the
// job and its template (see queue.CheckLabelsTx; docs/ARCHITECTURE.md, Runner state from webhooks); here the
// finding is logged and counted.
func (b *base) checkLabels(ctx context.Context, q *store.Q, fx *effects, job core.Job, want []string, log zerolog.Logger) error {
	c, err := b.queue.CheckLabelsTx(ctx, q, job, want)
	if err != nil {
		return err
	}
	if c.Outcome.Changed() {
		fx.jobs = append(fx.jobs, c.Outcome)
	}
	if c.TemplateCleared {
		log.Info().Str("template", job.TemplateID).Msg("label mismatch resolved")
	}
	if len(c.Missing) > 0 && c.Outcome.Changed() && !c.Outcome.Job.Status.Terminal() {
		// A flagged run no longer holds a runner of its group (the
		// dispatcher stops counting it; docs/ARCHITECTURE.md, "Dispatch
		// protocol"): the runner it held may take the next job now.
		fx.wake("label mismatch: run holds no runner")
	}
	if len(c.Missing) > 0 {
		log.Warn().Str("template", job.TemplateID).Strs("runs_on", want).Strs("missing", c.Missing).
			Strs("group_labels", c.GroupLabels).
			Msg("label mismatch: the run asks for labels no runner of its group has")
		fx.labelMismatch = append(fx.labelMismatch, [2]string{job.GroupID, job.TemplateID})
	}
	return nil
}
