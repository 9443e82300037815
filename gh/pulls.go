package gh

import (
	"context"
	"fmt"
	"net/http"
)

const epGetPull = "/repos/{owner}/{repo}/pulls/{pull_number}"

// PullHead is where a pull request's head commit lives: its branch (Ref) in
// the head repository Owner/Repo, which differs from the base repository
// for a pull request from a fork. Owner and Repo are empty when the head
// repository was deleted (GitHub then sends head.repo as null).
type PullHead struct {
	Owner, Repo string
	Ref         string
	SHA         string
}

// PullRequestHead reads pull request number of owner/repo and returns its
// head. The issue_comment webhook only carries a pull request's URLs, so
// this is how a comment's pull request becomes a branch. GitHub answers
// 404 (a permanent error) for an issue that is not a pull request.
func (c *Client) PullRequestHead(ctx context.Context, installationID int64, owner, repo string, number int) (PullHead, error) {
	ep := endpoint(http.MethodGet, epGetPull)
	if err := checkNames(ep, owner, repo); err != nil {
		return PullHead{}, err
	}
	if number <= 0 {
		return PullHead{}, invalid(ep, "pull request number must be positive, got %d", number)
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return PullHead{}, err
	}
	pr, _, err := client.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return PullHead{}, wrapf(classify(err, ep, true, c.now()), "read pull request %s/%s#%d", owner, repo, number)
	}
	h := pr.GetHead()
	if h.GetRef() == "" {
		// Never seen from GitHub, but an empty ref would silently mean
		// "the template's default branch" to a caller.
		return PullHead{}, fmt.Errorf("read pull request %s/%s#%d: %s answered without head.ref", owner, repo, number, ep)
	}
	return PullHead{Owner: h.GetRepo().GetOwner().GetLogin(), Repo: h.GetRepo().GetName(), Ref: h.GetRef(), SHA: h.GetSHA()}, nil
}
