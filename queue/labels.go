package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// LabelCheck is what CheckLabelsTx found and recorded.
type LabelCheck struct {
	// Outcome is the change of the job's label mismatch, if any (Changed
	// false otherwise); Emit it after the commit.
	Outcome Outcome
	// Missing are the runs-on labels no runner of the job's group serves;
	// empty when some runner serves them all, or when the group has no
	// runner to judge by.
	Missing []string
	// GroupLabels are the group's runner labels, for the log.
	GroupLabels []string
	// TemplateCleared: the template's flag was cleared (its workflow or the
	// runners were fixed).
	TemplateCleared bool
}

// CheckLabelsTx compares the runs-on labels of one of job's queued GitHub
// jobs with the runners of the job's group, on the caller's transaction:
// the most common misconfiguration is a workflow asking for labels the
// group's runners lack, so the run waits in GitHub's queue while we think
// the group is busy. Both the job (this run waits) and its template (its
// workflow is wrong) are flagged, saying which labels differ; a later
// queued job whose labels some runner serves clears both. A group without
// runners (autoscaled to zero) cannot be judged: an old flag stays.
func (s *Service) CheckLabelsTx(ctx context.Context, q *store.Q, job core.Job, runsOn []string) (LabelCheck, error) {
	if len(runsOn) == 0 {
		return LabelCheck{}, nil
	}
	g, err := q.GetGroup(ctx, job.GroupID)
	if err != nil {
		return LabelCheck{}, fmt.Errorf("check labels of job %d: %w", job.ID, err)
	}
	runners, err := q.ListRunners(ctx, store.RunnerFilter{Scope: g.RunnerScope})
	if err != nil {
		return LabelCheck{}, fmt.Errorf("check labels of job %d: %w", job.ID, err)
	}
	var have [][]string
	for _, r := range runners {
		if core.HasLabels(r.Labels, g.RunnerLabels) {
			have = append(have, r.Labels)
		}
	}
	t, err := templateOf(ctx, q, job)
	if err != nil {
		return LabelCheck{}, fmt.Errorf("check labels of job %d: %w", job.ID, err)
	}
	check := LabelCheck{Missing: core.UnservedLabels(runsOn, have), GroupLabels: g.RunnerLabels}
	text, templateText := "", ""
	if len(check.Missing) > 0 {
		text, templateText = mismatchText(check.Missing, g.ID), strings.Join(check.Missing, ", ")
	} else if len(have) == 0 {
		return LabelCheck{}, nil
	}
	if job.LabelMismatch != text {
		if check.Outcome, err = s.SetLabelMismatchTx(ctx, q, job.ID, text); err != nil {
			return LabelCheck{}, err
		}
	}
	if t.ID != "" && (templateText != "" || t.LabelMismatch != "") {
		if err := q.SetTemplateLabelMismatch(ctx, t.ID, templateText); err != nil {
			return LabelCheck{}, fmt.Errorf("record label mismatch on template %s: %w", t.ID, err)
		}
		check.TemplateCleared = templateText == ""
	}
	return check, nil
}

// CheckLabels is CheckLabelsTx on a transaction of its own, for a queued
// GitHub job linked to our job after its webhook was applied (the webhook
// beat the recording of the run id, so nothing checked it then); the change
// is announced after the commit.
func (s *Service) CheckLabels(ctx context.Context, job core.Job, runsOn []string) (LabelCheck, error) {
	var c LabelCheck
	err := s.store.InTx(ctx, func(q *store.Q) (err error) {
		c, err = s.CheckLabelsTx(ctx, q, job, runsOn)
		return err
	})
	if err != nil {
		return LabelCheck{}, err
	}
	s.Emit(c.Outcome)
	return c, nil
}

// templateOf returns the job's template, or the zero Template when the job
// has none or it was removed from the config since (still log and count).
func templateOf(ctx context.Context, q *store.Q, job core.Job) (core.Template, error) {
	if job.TemplateID == "" {
		return core.Template{}, nil
	}
	t, err := q.GetTemplate(ctx, job.TemplateID)
	if errors.Is(err, store.ErrNotFound) {
		return core.Template{}, nil
	}
	return t, err
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
