package dispatcher

import (
	"context"
	"fmt"
)

// RunCanceller cancels workflow runs through the App's installation on the
// run's repository. It adapts GitHub to queue.Canceller, whose callers know
// the repository but not the installation.
type RunCanceller struct {
	GitHub GitHub
}

// CancelRun asks GitHub to cancel runID of owner/repo.
func (c RunCanceller) CancelRun(ctx context.Context, owner, repo string, runID int64) error {
	in, err := c.GitHub.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return fmt.Errorf("cancel run %d of %s/%s: find installation: %w", runID, owner, repo, err)
	}
	return c.GitHub.CancelRun(ctx, in.ID, owner, repo, runID)
}
