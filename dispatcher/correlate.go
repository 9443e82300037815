package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
)

// findRun looks for the run a dispatch of j created, when GitHub did not
// say (no run details) or we did not hear (a crash, an ambiguous 5xx).
//
// A run is never claimed by its time alone: it must be a workflow_dispatch
// run of the job's workflow and branch whose actor is the App's bot (so
// nobody's manual run is taken), created after the attempt began, and not
// already the run of another job. When the job carries JobIDInput and the
// workflow shows it as run-name, the display_title identifies the run
// exactly and runs titled with another job's id are skipped; otherwise the
// oldest matching run is taken, since jobs are resolved oldest attempt
// first.
func (r *jobReconcile) findRun(ctx context.Context, j core.Job) (gh.Run, bool, error) {
	inst, err := r.installation(ctx, j)
	if err != nil {
		return gh.Run{}, false, err
	}
	bot, err := r.botLogin(ctx)
	if err != nil {
		return gh.Run{}, false, err
	}
	since := sinceOr(j.DispatchingAt, sinceOr(j.TriggeredAt, j.CreatedAt)).Add(-runMatchSlack)
	runs, err := r.d.gh.ListRuns(ctx, inst, j.Owner, j.Repo, gh.RunFilter{
		WorkflowID: j.WorkflowID, Event: "workflow_dispatch", Branch: branchOf(j.Ref), Actor: bot,
		CreatedAfter: since, Limit: 100,
	})
	if err != nil {
		return gh.Run{}, false, fmt.Errorf("look for the run of job %d: %w", j.ID, err)
	}
	// GitHub lists newest first; the oldest candidate is the best guess.
	slices.Reverse(runs)
	candidates := runs[:0]
	for _, run := range runs {
		if run.CreatedAt.Before(since) || !strings.EqualFold(run.Actor, bot) || run.Event != "workflow_dispatch" {
			continue
		}
		candidates = append(candidates, run)
	}
	want := ""
	if _, ok := j.Inputs[JobIDInput]; ok {
		want = strconv.FormatInt(j.ID, 10)
	}
	if want != "" {
		for _, run := range candidates {
			if run.DisplayTitle == want {
				free, err := r.runIsFree(ctx, run.ID, j.ID)
				return run, free, err
			}
		}
	}
	for _, run := range candidates {
		if _, err := strconv.ParseInt(run.DisplayTitle, 10, 64); err == nil && run.DisplayTitle != want {
			continue // titled with another job's id
		}
		free, err := r.runIsFree(ctx, run.ID, j.ID)
		if err != nil {
			return gh.Run{}, false, err
		}
		if free {
			return run, true, nil
		}
	}
	return gh.Run{}, false, nil
}

// runIsFree reports whether no job but jobID owns runID.
func (r *jobReconcile) runIsFree(ctx context.Context, runID, jobID int64) (bool, error) {
	owner, err := r.d.store.FindJobByRunID(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("who owns run %d: %w", runID, err)
	}
	return owner.ID == jobID, nil
}

// branchOf turns a dispatch ref into the head_branch GitHub reports for
// the run ("refs/heads/main" and "main" both run on "main").
func branchOf(ref string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if s, ok := strings.CutPrefix(ref, p); ok {
			return s
		}
	}
	return ref
}
