package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"

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
// Results are cached (see Options.InstallationTTL); "not installed" for at
// most a minute.
func (c *Client) InstallationForOwner(ctx context.Context, owner string) (Installation, error) {
	if err := checkNames(endpoint(http.MethodGet, epOrgInstallation), owner); err != nil {
		return Installation{}, err
	}
	key := ownerKey(owner)
	if in, err, ok := c.installs.get(key); ok {
		if err != nil {
			return Installation{}, wrapf(notInstalled(err), "find installation for %s", owner)
		}
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
			err = classify(err, endpoint(http.MethodGet, epUserInstallation), true, now)
			c.installs.putMissing(key, err)
			return Installation{}, wrapf(notInstalled(err), "find installation for %s", owner)
		}
	}
	out := installationFrom(in)
	c.installs.put(key, out)
	return out, nil
}

// InstallationForRepo finds the installation that covers owner/repo.
// Results are cached like InstallationForOwner's.
func (c *Client) InstallationForRepo(ctx context.Context, owner, repo string) (Installation, error) {
	ep := endpoint(http.MethodGet, epRepoInstallation)
	if err := checkNames(ep, owner, repo); err != nil {
		return Installation{}, err
	}
	key := repoKey(owner, repo)
	if in, err, ok := c.installs.get(key); ok {
		if err != nil {
			return Installation{}, wrapf(notInstalled(err), "find installation for %s/%s", owner, repo)
		}
		return in, nil
	}
	in, _, err := c.app.Apps.GetRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		err = classify(err, ep, true, c.now())
		c.installs.putMissing(key, err)
		return Installation{}, wrapf(notInstalled(err), "find installation for %s/%s", owner, repo)
	}
	out := installationFrom(in)
	c.installs.put(key, out)
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
	c.installs.forgetAll()
}

// ForgetInstallationFor drops what the cache holds for owner and, when repo
// is not empty, owner/repo, so the next lookup asks GitHub. The dispatcher
// calls it before it lets a job wait for an installation or re-checks one
// after a refused dispatch: the cached answer may predate an installation
// webhook another replica received, and a token of an uninstalled App can
// still be cached and answer 403, which does not forget the entry by itself.
func (c *Client) ForgetInstallationFor(owner, repo string) {
	keys := []string{ownerKey(owner)}
	if repo != "" {
		keys = append(keys, repoKey(owner, repo))
	}
	c.installs.drop(keys...)
}

// notInstalled marks an installation lookup's 404 with ErrNotInstalled,
// keeping the APIError (status, endpoint) reachable through errors.As.
func notInstalled(err error) error {
	if isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w: %w", ErrNotInstalled, err)
	}
	return err
}

// isStatus reports whether err is an APIError with that status.
func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
