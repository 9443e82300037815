package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v89/github"
)

const (
	epRun          = "/repos/{owner}/{repo}/actions/runs/{run_id}"
	epRuns         = "/repos/{owner}/{repo}/actions/runs"
	epWorkflowRuns = "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"
	epCancelRun    = "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"
)

// Run is a workflow run, with what the dispatcher needs to follow it and to
// recognise its own.
type Run struct {
	ID           int64
	WorkflowID   int64
	Name         string
	DisplayTitle string
	// Status: requested, queued, waiting, pending, in_progress, completed.
	Status string
	// Conclusion is set once completed: success, failure, cancelled, ...
	Conclusion string
	Event      string
	HeadBranch string
	// Path is the workflow file, ".github/workflows/sync.yml".
	Path         string
	Actor        string
	RunAttempt   int
	HTMLURL      string
	URL          string
	CreatedAt    time.Time
	RunStartedAt time.Time
	UpdatedAt    time.Time
}

func runFrom(r *github.WorkflowRun) Run {
	return Run{
		ID:           r.GetID(),
		WorkflowID:   r.GetWorkflowID(),
		Name:         r.GetName(),
		DisplayTitle: r.GetDisplayTitle(),
		Status:       r.GetStatus(),
		Conclusion:   r.GetConclusion(),
		Event:        r.GetEvent(),
		HeadBranch:   r.GetHeadBranch(),
		Path:         r.GetPath(),
		Actor:        r.GetActor().GetLogin(),
		RunAttempt:   r.GetRunAttempt(),
		HTMLURL:      r.GetHTMLURL(),
		URL:          r.GetURL(),
		CreatedAt:    r.GetCreatedAt().Time,
		RunStartedAt: r.GetRunStartedAt().Time,
		UpdatedAt:    r.GetUpdatedAt().Time,
	}
}

// RunFilter narrows ListRuns. Empty fields do not filter.
type RunFilter struct {
	// WorkflowID lists the runs of one workflow (file name or id).
	WorkflowID string
	Event      string
	Branch     string
	Actor      string
	// CreatedAfter keeps runs created at or after this moment.
	CreatedAfter time.Time
	// Status is a status or a conclusion, as GitHub's filter takes it.
	Status string
	// Limit caps how many runs are returned (newest first); default 300.
	Limit int
}

// GetRun reads one workflow run.
func (c *Client) GetRun(ctx context.Context, installationID int64, owner, repo string, runID int64) (Run, error) {
	ep := endpoint(http.MethodGet, epRun)
	if err := checkNames(ep, owner, repo); err != nil {
		return Run{}, err
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return Run{}, err
	}
	r, _, err := client.Actions.GetWorkflowRunByID(ctx, owner, repo, runID)
	if err != nil {
		return Run{}, wrapf(classify(err, ep, true, c.now()), "get run %d of %s/%s", runID, owner, repo)
	}
	return runFrom(r), nil
}

// ListRuns lists a repository's runs, newest first, following pages until
// f.Limit runs were read or no page is left.
func (c *Client) ListRuns(ctx context.Context, installationID int64, owner, repo string, f RunFilter) ([]Run, error) {
	ep := endpoint(http.MethodGet, epRuns)
	if f.WorkflowID != "" {
		ep = endpoint(http.MethodGet, epWorkflowRuns)
		if !validWorkflowID(f.WorkflowID) {
			return nil, invalid(ep, "workflow %q is neither a workflow file name nor an id", f.WorkflowID)
		}
	}
	if err := checkNames(ep, owner, repo); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 300
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return nil, err
	}
	opts := &github.ListWorkflowRunsOptions{
		Event: f.Event, Branch: f.Branch, Actor: f.Actor, Status: f.Status,
		ListOptions: github.ListOptions{PerPage: min(100, f.Limit)},
	}
	if !f.CreatedAfter.IsZero() {
		opts.Created = ">=" + f.CreatedAfter.UTC().Format(time.RFC3339)
	}
	var out []Run
	for range pageLimit {
		var (
			page *github.WorkflowRuns
			resp *github.Response
		)
		if f.WorkflowID != "" {
			page, resp, err = client.Actions.ListWorkflowRunsByFileName(ctx, owner, repo, f.WorkflowID, opts)
		} else {
			page, resp, err = client.Actions.ListRepositoryWorkflowRuns(ctx, owner, repo, opts)
		}
		if err != nil {
			return nil, wrapf(classify(err, ep, true, c.now()), "list runs of %s/%s", owner, repo)
		}
		for _, r := range page.WorkflowRuns {
			out = append(out, runFrom(r))
			if len(out) >= f.Limit {
				return out, nil
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// CancelRun asks GitHub to cancel a run. GitHub accepts (202) and cancels
// asynchronously: the run's completion arrives later as a workflow_run
// webhook. A run that already completed yields ErrRunCompleted.
func (c *Client) CancelRun(ctx context.Context, installationID int64, owner, repo string, runID int64) error {
	ep := endpoint(http.MethodPost, epCancelRun)
	if err := checkNames(ep, owner, repo); err != nil {
		return err
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return err
	}
	_, err = client.Actions.CancelWorkflowRunByID(ctx, owner, repo, runID)
	var accepted *github.AcceptedError
	if err == nil || errors.As(err, &accepted) {
		return nil
	}
	// Cancelling twice is harmless, so the POST counts as idempotent here.
	cerr := classify(err, ep, true, c.now())
	if isStatus(cerr, http.StatusConflict) {
		return fmt.Errorf("cancel run %d of %s/%s: %w (%w)", runID, owner, repo, ErrRunCompleted, cerr)
	}
	return wrapf(cerr, "cancel run %d of %s/%s", runID, owner, repo)
}
