package slash

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/gh"
)

// PullHeadReader reads a pull request's head from GitHub; *gh.Client
// implements it.
type PullHeadReader interface {
	PullRequestHead(ctx context.Context, installationID int64, owner, repo string, number int) (gh.PullHead, error)
}

// PullRequestsFrom adapts r (normally the *gh.Client) to Options.PullRequests.
// A nil r gives nil, which refuses `--ref pr` with a reason.
func PullRequestsFrom(r PullHeadReader) PullRequests {
	if r == nil {
		return nil
	}
	return pullHeads{r}
}

type pullHeads struct{ r PullHeadReader }

func (p pullHeads) PullRequestHead(ctx context.Context, inst int64, owner, repo string, n int) (PullHead, error) {
	h, err := p.r.PullRequestHead(ctx, inst, owner, repo, n)
	if err != nil {
		return PullHead{}, err
	}
	// GitHub reports a deleted fork's head without a repository. Its branch
	// exists nowhere we could dispatch to, and an empty owner must not
	// reach the same-repository comparison as if it were a name.
	if h.Owner == "" || h.Repo == "" {
		return PullHead{}, fmt.Errorf("pull request %s/%s#%d: its head repository was deleted", owner, repo, n)
	}
	return PullHead{Owner: h.Owner, Repo: h.Repo, Ref: h.Ref}, nil
}
