package gh

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-github/v89/github"
)

const epDispatch = "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"

// DispatchRequest is one workflow_dispatch to send.
type DispatchRequest struct {
	InstallationID int64
	Owner, Repo    string
	// WorkflowID is the workflow's file name ("sync.yml") or numeric id.
	WorkflowID string
	// Ref is the branch or tag to run on.
	Ref    string
	Inputs map[string]string
}

// DispatchResult is what GitHub told us about the run it created.
type DispatchResult struct {
	RunID   int64
	RunURL  string // API URL of the run
	HTMLURL string // web URL of the run
	// HasRunDetails is false when GitHub did not say which run it created
	// (204, or a host that refuses return_run_details): the caller then
	// correlates the run from workflow_run webhooks or a runs listing.
	HasRunDetails bool
}

// Dispatch creates a workflow_dispatch event, asking GitHub for the run it
// creates (return_run_details). Hosts that refuse that field (GitHub
// Enterprise Server before 3.20) get the dispatch again without it, once,
// and never see the field again from this Client.
//
// Dispatch is never retried on 5xx or network errors: the run may have been
// created, so the error says MaybeApplied and the caller looks for the run.
func (c *Client) Dispatch(ctx context.Context, req DispatchRequest) (DispatchResult, error) {
	ep := endpoint(http.MethodPost, epDispatch)
	if err := checkNames(ep, req.Owner, req.Repo); err != nil {
		return DispatchResult{}, err
	}
	if !validWorkflowID(req.WorkflowID) {
		return DispatchResult{}, invalid(ep, "workflow %q is neither a workflow file name nor an id", req.WorkflowID)
	}
	if strings.TrimSpace(req.Ref) == "" {
		return DispatchResult{}, invalid(ep, "ref is empty")
	}
	ctx, client, err := c.installation(ctx, req.InstallationID, ep)
	if err != nil {
		return DispatchResult{}, err
	}
	body := github.CreateWorkflowDispatchEventRequest{Ref: req.Ref}
	if len(req.Inputs) > 0 {
		// GitHub's inputs are strings on the wire whatever the declared type
		// (a boolean input receives "true"), so they are sent as given.
		body.Inputs = make(map[string]any, len(req.Inputs))
		for k, v := range req.Inputs {
			body.Inputs[k] = v
		}
	}
	askDetails := !c.noRunDetails.Load()
	if askDetails {
		body.ReturnRunDetails = github.Ptr(true)
	}
	details, _, err := client.Actions.CreateWorkflowDispatchEventByFileName(ctx, req.Owner, req.Repo, req.WorkflowID, body)
	if err != nil && askDetails && rejectsRunDetails(err) {
		if c.noRunDetails.CompareAndSwap(false, true) {
			c.log.Info().Str("host", c.host).Str("repo", req.Owner+"/"+req.Repo).
				Msg("GitHub refused return_run_details (GitHub Enterprise Server before 3.20); dispatching without it and correlating runs from workflow_run webhooks")
		}
		body.ReturnRunDetails = nil
		details, _, err = client.Actions.CreateWorkflowDispatchEventByFileName(ctx, req.Owner, req.Repo, req.WorkflowID, body)
	}
	if err != nil {
		return DispatchResult{}, wrapf(classify(err, ep, false, c.now()),
			"dispatch %s/%s workflow %s on %s", req.Owner, req.Repo, req.WorkflowID, req.Ref)
	}
	if details == nil || details.GetWorkflowRunID() == 0 {
		return DispatchResult{}, nil
	}
	return DispatchResult{
		RunID:         details.GetWorkflowRunID(),
		RunURL:        details.GetRunURL(),
		HTMLURL:       details.GetHTMLURL(),
		HasRunDetails: true,
	}, nil
}

// rejectsRunDetails recognises GitHub refusing the return_run_details key.
// GHES 3.19 answers 422 `Invalid request.\n\n"return_run_details" is not a
// permitted key.`; other versions or proxies may phrase it differently or
// use 400, so any 400/422 that names the field counts, and so does a
// "not a permitted key"/"not allowed"/"unexpected" complaint that names no
// other field (ref and inputs are always permitted, and "Unexpected inputs
// provided" is about the workflow's inputs, not our body).
func rejectsRunDetails(err error) bool {
	var ere *github.ErrorResponse
	if !errors.As(err, &ere) || ere.Response == nil {
		return false
	}
	if s := ere.Response.StatusCode; s != http.StatusBadRequest && s != http.StatusUnprocessableEntity {
		return false
	}
	texts := []string{ere.Message}
	for _, e := range ere.Errors {
		texts = append(texts, e.Message, e.Field, e.Code)
	}
	all := strings.ToLower(strings.Join(texts, "\n"))
	if strings.Contains(all, "return_run_details") {
		return true
	}
	if namesOtherField.MatchString(all) {
		return false
	}
	for _, phrase := range []string{"not a permitted key", "not allowed", "unexpected", "unknown field", "additional propert"} {
		if strings.Contains(all, phrase) {
			return true
		}
	}
	return false
}

var namesOtherField = regexp.MustCompile(`\b(ref|inputs?)\b`)

// validWorkflowID accepts a workflow file name or a numeric id; GitHub takes
// either in the same path segment.
func validWorkflowID(id string) bool {
	if id == "" || strings.ContainsAny(id, "/?#%\\ ") || id == "." || id == ".." {
		return false
	}
	return true
}
