package gh

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// Installation is an installation of the App on an account.
type Installation struct {
	ID int64
	// Account is the org or user login the App is installed on.
	Account string
	// AccountType is "Organization" or "User".
	AccountType string
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	// Suspended installations cannot be used: their tokens are refused.
	Suspended bool
}

type cachedInstallation struct {
	in      Installation
	expires time.Time
}

func installationFrom(in *github.Installation) Installation {
	return Installation{
		ID:                  in.GetID(),
		Account:             in.GetAccount().GetLogin(),
		AccountType:         in.GetAccount().GetType(),
		RepositorySelection: in.GetRepositorySelection(),
		Suspended:           in.SuspendedAt != nil,
	}
}

const (
	epOrgInstallation  = "/orgs/{org}/installation"
	epUserInstallation = "/users/{username}/installation"
	epRepoInstallation = "/repos/{owner}/{repo}/installation"
	epInstallations    = "/app/installations"
)

// InstallationForOwner finds the App's installation on an organization or,
// when owner is not an organization with the App, on a user account.
// Results are cached for Options.InstallationTTL.
func (c *Client) InstallationForOwner(ctx context.Context, owner string) (Installation, error) {
	if err := checkNames(endpoint(http.MethodGet, epOrgInstallation), owner); err != nil {
		return Installation{}, err
	}
	key := "owner:" + strings.ToLower(owner)
	if in, ok := c.cachedInstallation(key); ok {
		return in, nil
	}
	now := c.now()
	in, _, err := c.app.Apps.GetOrganizationInstallation(ctx, owner)
	if err != nil {
		// GitHub answers 404 for a user account here, so a 404 means "try
		// the user route", not "not installed".
		err = classify(err, endpoint(http.MethodGet, epOrgInstallation), true, now)
		if !isStatus(err, http.StatusNotFound) {
			return Installation{}, wrapf(err, "find installation for %s", owner)
		}
		in, _, err = c.app.Apps.GetUserInstallation(ctx, owner)
		if err != nil {
			return Installation{}, wrapf(classify(err, endpoint(http.MethodGet, epUserInstallation), true, now),
				"find installation for %s", owner)
		}
	}
	out := installationFrom(in)
	c.storeInstallation(key, out)
	return out, nil
}

// InstallationForRepo finds the installation that covers owner/repo.
// Results are cached for Options.InstallationTTL.
func (c *Client) InstallationForRepo(ctx context.Context, owner, repo string) (Installation, error) {
	ep := endpoint(http.MethodGet, epRepoInstallation)
	if err := checkNames(ep, owner, repo); err != nil {
		return Installation{}, err
	}
	key := "repo:" + strings.ToLower(owner+"/"+repo)
	if in, ok := c.cachedInstallation(key); ok {
		return in, nil
	}
	in, _, err := c.app.Apps.GetRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		return Installation{}, wrapf(classify(err, ep, true, c.now()), "find installation for %s/%s", owner, repo)
	}
	out := installationFrom(in)
	c.storeInstallation(key, out)
	return out, nil
}

// ListInstallations lists every installation of the App.
func (c *Client) ListInstallations(ctx context.Context) ([]Installation, error) {
	ep := endpoint(http.MethodGet, epInstallations)
	var out []Installation
	opts := &github.ListOptions{PerPage: 100}
	for range pageLimit {
		page, resp, err := c.app.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, wrapf(classify(err, ep, true, c.now()), "list installations")
		}
		for _, in := range page {
			out = append(out, installationFrom(in))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// ForgetInstallations empties the installation cache; the installation
// webhook handlers call it when installations change.
func (c *Client) ForgetInstallations() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.installs)
}

func (c *Client) cachedInstallation(key string) (Installation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci, ok := c.installs[key]
	if !ok || !c.now().Before(ci.expires) {
		return Installation{}, false
	}
	return ci.in, true
}

func (c *Client) storeInstallation(key string, in Installation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.installs[key] = cachedInstallation{in: in, expires: c.now().Add(c.instTTL)}
}

// isStatus reports whether err is an APIError with that status.
func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
