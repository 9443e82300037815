package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention bounds the tables that grow with traffic (docs/RELIABILITY.md,
// "Bounded tables"). Finished jobs are the queue's (queue.Service.Cleanup);
// the rest is pruned here. A zero duration keeps that table's rows forever.
type Retention struct {
	// Deliveries: webhook delivery ids, kept to recognise duplicates and
	// redeliveries. GitHub redelivers deliveries of the past 3 days.
	Deliveries time.Duration
	// FinishedGitHubJobs: GitHub's workflow jobs that completed. They only
	// keep a late, reordered event from moving a job back.
	FinishedGitHubJobs time.Duration
	// StaleGitHubJobs: GitHub's workflow jobs never seen to finish (their
	// completed event was lost). GitHub fails a job that waits 24 hours for a
	// runner and ends one that runs 5 days on a self-hosted runner, so
	// older ones are neither demand nor busy runners.
	StaleGitHubJobs time.Duration
	// Audit: audit log entries.
	Audit time.Duration
}

// DefaultRetention is what the server prunes with, Audit aside (the
// operator's history.audit_retention_days).
var DefaultRetention = Retention{
	Deliveries:         7 * 24 * time.Hour,
	FinishedGitHubJobs: 24 * time.Hour,
	StaleGitHubJobs:    7 * 24 * time.Hour,
}

// Pruned counts the rows one Prune deleted.
type Pruned struct {
	Deliveries, GitHubJobs, Audit int64
}

// Prune deletes rows older than the retention, each table on its own: a
// failure in one is reported (joined) and the others are still pruned.
func (q *Q) Prune(ctx context.Context, r Retention) (Pruned, error) {
	var (
		out  Pruned
		errs []error
	)
	now := q.now()
	if r.Deliveries > 0 {
		n, err := q.DeleteDeliveriesBefore(ctx, now.Add(-r.Deliveries))
		out.Deliveries, errs = n, append(errs, err)
	}
	if r.FinishedGitHubJobs > 0 {
		n, err := q.DeleteGitHubJobsBefore(ctx, now.Add(-r.FinishedGitHubJobs))
		out.GitHubJobs, errs = n, append(errs, err)
	}
	if r.StaleGitHubJobs > 0 {
		res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM github_jobs WHERE status_rank < 2 AND updated_at < ?`),
			dbTime(now.Add(-r.StaleGitHubJobs)))
		if err == nil {
			var n int64
			n, err = affected(res, "delete stale github jobs")
			out.GitHubJobs += n
		}
		errs = append(errs, wrapIf(err, "delete stale github jobs"))
	}
	if r.Audit > 0 {
		res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM audit_log WHERE at < ?`), dbTime(now.Add(-r.Audit)))
		if err == nil {
			out.Audit, err = affected(res, "delete audit entries")
		}
		errs = append(errs, wrapIf(err, "delete old audit entries"))
	}
	return out, errors.Join(errs...)
}

func wrapIf(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
