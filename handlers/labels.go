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
// so the run waits in GitHub's queue while we think the group is busy.
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
	missing := core.UnservedLabels(want, have)
	if job.TemplateID == "" {
		if len(missing) > 0 {
			log.Warn().Strs("runs_on", want).Strs("missing", missing).Strs("group_labels", g.RunnerLabels).
				Msg("label mismatch: the run asks for labels no runner of its group has")
			fx.labelMismatch = append(fx.labelMismatch, [2]string{g.ID, ""})
		}
		return nil
	}
	t, err := q.GetTemplate(ctx, job.TemplateID)
	if errors.Is(err, store.ErrNotFound) {
		t = core.Template{} // removed from the config since; still log and count
	} else if err != nil {
		return err
	}
	switch {
	case len(missing) > 0:
		log.Warn().Str("template", job.TemplateID).Strs("runs_on", want).Strs("missing", missing).
			Strs("group_labels", g.RunnerLabels).
			Msg("label mismatch: the run asks for labels no runner of its group has")
		fx.labelMismatch = append(fx.labelMismatch, [2]string{g.ID, job.TemplateID})
		if t.ID != "" {
			return q.SetTemplateLabelMismatch(ctx, t.ID, strings.Join(missing, ", "))
		}
	case len(have) > 0 && t.LabelMismatch != "":
		// Some runner now serves every label: the workflow or the runners
		// were fixed. (A group without runners cannot be judged, so an old
		// flag stays until it can.)
		log.Info().Str("template", t.ID).Msg("label mismatch resolved")
		return q.SetTemplateLabelMismatch(ctx, t.ID, "")
	}
	return nil
}
