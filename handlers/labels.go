package handlers

import (
	"context"
	"errors"
	"fmt"
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

// checkLabels compares the runs-on labels of our job's queued GitHub job with
// the runners of the job's group (DESIGN.md §5): the most common
// misconfiguration is a workflow asking for labels the group's runners lack,
// so the run waits in GitHub's queue while we think the group is busy. Both
// the job (this run waits) and its template (its workflow is wrong) are
// flagged, saying which labels differ; a later queued job whose labels some
// runner serves clears both.
func (b *base) checkLabels(ctx context.Context, q *store.Q, fx *effects, job core.Job, want []string, log zerolog.Logger) error {
	if len(want) == 0 {
		return nil
	}
	g, err := q.GetGroup(ctx, job.GroupID)
	if err != nil {
		return err
	}
	runners, err := q.ListRunners(ctx, store.RunnerFilter{Scope: g.RunnerScope})
	if err != nil {
		return err
	}
	var have [][]string
	for _, r := range runners {
		if core.HasLabels(r.Labels, g.RunnerLabels) {
			have = append(have, r.Labels)
		}
	}
	t, err := b.templateOf(ctx, q, job)
	if err != nil {
		return err
	}
	missing := core.UnservedLabels(want, have)
	if len(missing) == 0 {
		if len(have) == 0 {
			// A group without runners (autoscaled to zero) cannot be
			// judged: an old flag stays until it can.
			return nil
		}
		return b.clearLabelMismatch(ctx, q, fx, job, t, log)
	}
	log.Warn().Str("template", job.TemplateID).Strs("runs_on", want).Strs("missing", missing).
		Strs("group_labels", g.RunnerLabels).
		Msg("label mismatch: the run asks for labels no runner of its group has")
	fx.labelMismatch = append(fx.labelMismatch, [2]string{g.ID, job.TemplateID})
	if text := mismatchText(missing, g.ID); job.LabelMismatch != text {
		if err := b.setJobLabelMismatch(ctx, q, fx, job.ID, text); err != nil {
			return err
		}
	}
	if t.ID != "" {
		return q.SetTemplateLabelMismatch(ctx, t.ID, strings.Join(missing, ", "))
	}
	return nil
}

// templateOf returns the job's template, or the zero Template when the job
// has none or it was removed from the config since (still log and count).
func (b *base) templateOf(ctx context.Context, q *store.Q, job core.Job) (core.Template, error) {
	if job.TemplateID == "" {
		return core.Template{}, nil
	}
	t, err := q.GetTemplate(ctx, job.TemplateID)
	if errors.Is(err, store.ErrNotFound) {
		return core.Template{}, nil
	}
	return t, err
}

// clearLabelMismatch drops the flags once some runner serves every label:
// the workflow or the runners were fixed.
func (b *base) clearLabelMismatch(ctx context.Context, q *store.Q, fx *effects, job core.Job, t core.Template, log zerolog.Logger) error {
	if job.LabelMismatch != "" {
		if err := b.setJobLabelMismatch(ctx, q, fx, job.ID, ""); err != nil {
			return err
		}
	}
	if t.LabelMismatch != "" {
		log.Info().Str("template", t.ID).Msg("label mismatch resolved")
		return q.SetTemplateLabelMismatch(ctx, t.ID, "")
	}
	return nil
}

func (b *base) setJobLabelMismatch(ctx context.Context, q *store.Q, fx *effects, jobID int64, text string) error {
	out, err := b.queue.SetLabelMismatchTx(ctx, q, jobID, text)
	if err != nil {
		return err
	}
	fx.jobs = append(fx.jobs, out)
	return nil
}

// mismatchText says what the job's run asks for that its group lacks, e.g.
// "runs-on asks for gpu-xl; no runner of group gpu has it".
func mismatchText(missing []string, group string) string {
	what := "it"
	if len(missing) > 1 {
		what = "them all"
	}
	return fmt.Sprintf("runs-on asks for %s; no runner of group %s has %s", strings.Join(missing, ", "), group, what)
}
