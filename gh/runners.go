package gh

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/google/go-github/v89/github"
)

const (
	epOrgRunners  = "/orgs/{org}/actions/runners"
	epRepoRunners = "/repos/{owner}/{repo}/actions/runners"
)

// Scope is where runners are registered: an organization or a repository.
type Scope struct {
	Org   string // set for "org:NAME"
	Owner string // set with Repo for "repo:OWNER/NAME"
	Repo  string
}

// ParseScope reads "org:NAME" or "repo:OWNER/NAME" (core.Runner.Scope's
// form).
func ParseScope(s string) (Scope, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Scope{}, fmt.Errorf("runner scope %q: want org:NAME or repo:OWNER/NAME: %w", s, ErrInvalidRequest)
	}
	switch kind {
	case "org":
		if !validName(rest) {
			return Scope{}, fmt.Errorf("runner scope %q: %q is not an organization name: %w", s, rest, ErrInvalidRequest)
		}
		return Scope{Org: rest}, nil
	case "repo":
		owner, repo, ok := strings.Cut(rest, "/")
		if !ok || !validName(owner) || !validName(repo) {
			return Scope{}, fmt.Errorf("runner scope %q: want repo:OWNER/NAME: %w", s, ErrInvalidRequest)
		}
		return Scope{Owner: owner, Repo: repo}, nil
	}
	return Scope{}, fmt.Errorf("runner scope %q: kind %q is neither org nor repo: %w", s, kind, ErrInvalidRequest)
}

// String is the scope in core.Runner.Scope's form.
func (s Scope) String() string {
	if s.Org != "" {
		return "org:" + s.Org
	}
	return "repo:" + s.Owner + "/" + s.Repo
}

// ListRunners lists every self-hosted runner of scope ("org:NAME" or
// "repo:OWNER/NAME"), following every page.
func (c *Client) ListRunners(ctx context.Context, installationID int64, scope string) ([]core.Runner, error) {
	sc, err := ParseScope(scope)
	if err != nil {
		return nil, err
	}
	ep := endpoint(http.MethodGet, epOrgRunners)
	if sc.Org == "" {
		ep = endpoint(http.MethodGet, epRepoRunners)
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return nil, err
	}
	opts := &github.ListRunnersOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var out []core.Runner
	for range pageLimit {
		var (
			page *github.Runners
			resp *github.Response
		)
		if sc.Org != "" {
			page, resp, err = client.Actions.ListOrganizationRunners(ctx, sc.Org, opts)
		} else {
			page, resp, err = client.Actions.ListRunners(ctx, sc.Owner, sc.Repo, opts)
		}
		if err != nil {
			return nil, wrapf(classify(err, ep, true, c.now()), "list runners of %s", scope)
		}
		for _, r := range page.Runners {
			out = append(out, runnerFrom(r, sc.String()))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
	return nil, fmt.Errorf("list runners of %s: more than %d pages", scope, pageLimit)
}

func runnerFrom(r *github.Runner, scope string) core.Runner {
	labels := make([]string, 0, len(r.Labels))
	for _, l := range r.Labels {
		labels = append(labels, l.GetName())
	}
	status := core.RunnerOffline
	if r.GetStatus() == string(core.RunnerOnline) {
		status = core.RunnerOnline
	}
	return core.Runner{
		ID:        r.GetID(),
		Name:      r.GetName(),
		Scope:     scope,
		Labels:    core.NormalizeLabels(labels),
		Status:    status,
		Busy:      r.GetBusy(),
		Ephemeral: r.GetEphemeral(),
	}
}
