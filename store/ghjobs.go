package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// GitHubJobStatus is a workflow job's status as GitHub reports it.
type GitHubJobStatus string

const (
	GitHubJobRequested  GitHubJobStatus = "requested"
	GitHubJobPending    GitHubJobStatus = "pending"
	GitHubJobQueued     GitHubJobStatus = "queued"
	GitHubJobWaiting    GitHubJobStatus = "waiting"
	GitHubJobInProgress GitHubJobStatus = "in_progress"
	GitHubJobCompleted  GitHubJobStatus = "completed"
)

// Rank orders statuses for the monotonic rule: everything before a runner
// picks the job up is 0, in_progress 1, completed 2. ok is false for a status
// GitHub does not send.
func (s GitHubJobStatus) Rank() (rank int, ok bool) {
	switch s {
	case GitHubJobRequested, GitHubJobPending, GitHubJobQueued, GitHubJobWaiting:
		return 0, true
	case GitHubJobInProgress:
		return 1, true
	case GitHubJobCompleted:
		return 2, true
	}
	return 0, false
}

// GitHubJob is the latest known state of one GitHub workflow job (a job of a
// workflow run, not one of our queue's jobs).
type GitHubJob struct {
	ID         int64  `json:"id"`
	RunID      int64  `json:"run_id"`
	RunAttempt int    `json:"run_attempt"`
	Repo       string `json:"repo"` // owner/name
	// WorkflowName is the workflow's name as in the payload.
	WorkflowName string `json:"workflow_name"`
	// Labels are the job's runs-on labels, normalised.
	Labels     []string        `json:"labels"`
	Status     GitHubJobStatus `json:"status"`
	Conclusion string          `json:"conclusion,omitempty"`
	RunnerID   int64           `json:"runner_id,omitempty"`
	RunnerName string          `json:"runner_name,omitempty"`
	HeadBranch string          `json:"head_branch,omitempty"`
	// JobID is our dispatchoor job id when the run is one of ours, else 0.
	JobID     int64     `json:"job_id,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

type githubJobRow struct {
	ID           int64         `db:"id"`
	RunID        int64         `db:"run_id"`
	RunAttempt   int           `db:"run_attempt"`
	Repo         string        `db:"repo"`
	WorkflowName string        `db:"workflow_name"`
	Labels       string        `db:"labels"`
	Status       string        `db:"status"`
	StatusRank   int           `db:"status_rank"`
	Conclusion   string        `db:"conclusion"`
	RunnerID     sql.NullInt64 `db:"runner_id"`
	RunnerName   string        `db:"runner_name"`
	HeadBranch   string        `db:"head_branch"`
	JobID        sql.NullInt64 `db:"job_id"`
	UpdatedAt    time.Time     `db:"updated_at"`
}

const githubJobColumns = `id, run_id, run_attempt, repo, workflow_name, labels, status, status_rank,
	conclusion, runner_id, runner_name, head_branch, job_id, updated_at`

func (r githubJobRow) job() (GitHubJob, error) {
	labels, err := decodeLabels(r.Labels)
	if err != nil {
		return GitHubJob{}, fmt.Errorf("github job %d: %w", r.ID, err)
	}
	return GitHubJob{
		ID: r.ID, RunID: r.RunID, RunAttempt: r.RunAttempt, Repo: r.Repo,
		WorkflowName: r.WorkflowName, Labels: labels, Status: GitHubJobStatus(r.Status),
		Conclusion: r.Conclusion, RunnerID: r.RunnerID.Int64, RunnerName: r.RunnerName,
		HeadBranch: r.HeadBranch, JobID: r.JobID.Int64, UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// ApplyGitHubJob records a workflow_job event. It is monotonic: an event
// never moves a job back (queued/waiting < in_progress < completed), because
// GitHub neither orders nor guarantees its webhooks. applied is false when
// the event was older than what is stored; the caller must then not act on
// it (e.g. not mark a runner busy). Same-rank events before completion are
// applied (queued → waiting, or a repeated in_progress); a completed job is
// final. Fields an event leaves empty (labels, runner, our job id) keep what
// an earlier event told us.
func (q *Q) ApplyGitHubJob(ctx context.Context, j GitHubJob) (applied bool, err error) {
	query, args, err := q.applyGitHubJobSQL(j, "?")
	if err != nil {
		return false, err
	}
	res, err := q.x.ExecContext(ctx, q.rebind(query), args...)
	if err != nil {
		return false, fmt.Errorf("apply github job %d (%s): %w", j.ID, j.Status, err)
	}
	n, err := affected(res, "apply github job")
	return n == 1, err
}

// ApplyGitHubJobOfRun is ApplyGitHubJob for a workflow_job delivery: in the
// same statement it links the GitHub job to our job whose dispatch created
// its run (when j.JobID is 0) and returns that job's id, 0 when the run is
// not ours. A delivery used to look its job up by run id first; folding the
// lookup into the upsert saves a round trip on every delivery. jobID is only
// known when applied is true; a stale event needs no job.
func (q *Q) ApplyGitHubJobOfRun(ctx context.Context, j GitHubJob) (jobID int64, applied bool, err error) {
	query, args, err := q.applyGitHubJobSQL(j, "COALESCE(?, (SELECT id FROM jobs WHERE run_id = ?))")
	if err != nil {
		return 0, false, err
	}
	// The job is read from jobs, as FindJobByRunID would, not from the
	// stored link: the jobs table is the truth about which run is ours.
	args = append(args, j.RunID)
	var id int64
	err = q.x.GetContext(ctx, &id, q.rebind(query+` RETURNING COALESCE((SELECT id FROM jobs WHERE run_id = ?), 0)`), args...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil // the DO UPDATE's WHERE refused a stale event
	case err != nil:
		return 0, false, fmt.Errorf("apply github job %d (%s) of run %d: %w", j.ID, j.Status, j.RunID, err)
	}
	return id, true, nil
}

// applyGitHubJobSQL validates j and builds the monotonic upsert, with "?"
// placeholders for the caller to rebind. jobIDExpr
// is the SQL for the inserted job_id: "?" for j.JobID, or an expression that
// also looks our job up by run id (its second "?" is the run id).
func (q *Q) applyGitHubJobSQL(j GitHubJob, jobIDExpr string) (string, []any, error) {
	rank, ok := j.Status.Rank()
	switch {
	case !ok:
		return "", nil, fmt.Errorf("apply github job %d: unknown status %q: %w", j.ID, j.Status, ErrInvalid)
	case j.ID <= 0 || j.RunID <= 0:
		return "", nil, fmt.Errorf("apply github job %d of run %d: ids must be positive: %w", j.ID, j.RunID, ErrInvalid)
	case !strings.Contains(j.Repo, "/"):
		return "", nil, fmt.Errorf("apply github job %d: repo %q is not owner/name: %w", j.ID, j.Repo, ErrInvalid)
	}
	if j.RunAttempt <= 0 {
		j.RunAttempt = 1
	}
	labels, err := encodeLabels(j.Labels)
	if err != nil {
		return "", nil, fmt.Errorf("apply github job %d: %w", j.ID, err)
	}
	args := []any{j.ID, j.RunID, j.RunAttempt, j.Repo, j.WorkflowName, labels, string(j.Status), rank,
		j.Conclusion, nullID(j.RunnerID), j.RunnerName, j.HeadBranch, nullID(j.JobID)}
	if strings.Count(jobIDExpr, "?") == 2 {
		args = append(args, j.RunID)
	}
	args = append(args, q.now())
	return `INSERT INTO github_jobs (` + githubJobColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ` + jobIDExpr + `, ?)
		ON CONFLICT (id) DO UPDATE SET
			run_id = excluded.run_id,
			run_attempt = excluded.run_attempt,
			repo = excluded.repo,
			workflow_name = CASE WHEN excluded.workflow_name = '' THEN github_jobs.workflow_name ELSE excluded.workflow_name END,
			labels = CASE WHEN excluded.labels = '[]' THEN github_jobs.labels ELSE excluded.labels END,
			status = excluded.status,
			status_rank = excluded.status_rank,
			conclusion = excluded.conclusion,
			runner_id = COALESCE(excluded.runner_id, github_jobs.runner_id),
			runner_name = CASE WHEN excluded.runner_name = '' THEN github_jobs.runner_name ELSE excluded.runner_name END,
			head_branch = CASE WHEN excluded.head_branch = '' THEN github_jobs.head_branch ELSE excluded.head_branch END,
			job_id = COALESCE(excluded.job_id, github_jobs.job_id),
			updated_at = excluded.updated_at
		WHERE github_jobs.status_rank < excluded.status_rank
			OR (github_jobs.status_rank = excluded.status_rank AND excluded.status_rank < 2)`, args, nil
}

// GetGitHubJob returns the stored state of one GitHub workflow job.
func (q *Q) GetGitHubJob(ctx context.Context, id int64) (GitHubJob, error) {
	var row githubJobRow
	if err := q.x.GetContext(ctx, &row, q.rebind(`SELECT `+githubJobColumns+` FROM github_jobs WHERE id = ?`), id); err != nil {
		return GitHubJob{}, notFound(err, fmt.Sprintf("github job %d", id))
	}
	return row.job()
}

// QueuedGitHubJobs returns the jobs still waiting inside GitHub for a runner
// (the demand the capacity calculation subtracts), oldest first. Jobs that
// belong to our own in-flight jobs carry JobID so the caller can avoid
// counting them twice.
func (q *Q) QueuedGitHubJobs(ctx context.Context) ([]GitHubJob, error) {
	return q.selectGitHubJobs(ctx, `WHERE status_rank = 0 ORDER BY updated_at, id`)
}

// GitHubJobsOfRun returns the jobs of one workflow run, in id order.
func (q *Q) GitHubJobsOfRun(ctx context.Context, runID int64) ([]GitHubJob, error) {
	return q.selectGitHubJobs(ctx, `WHERE run_id = ? ORDER BY id`, runID)
}

func (q *Q) selectGitHubJobs(ctx context.Context, where string, args ...any) ([]GitHubJob, error) {
	out, err := selectRows(ctx, q, githubJobRow.job, `SELECT `+githubJobColumns+` FROM github_jobs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list github jobs: %w", err)
	}
	return out, nil
}

// LinkGitHubRunToJob marks every GitHub job of a run as belonging to our job,
// for runs correlated after their workflow_job events arrived (GHES without
// run details). Jobs already linked are left alone. It returns how many
// GitHub jobs were linked.
func (q *Q) LinkGitHubRunToJob(ctx context.Context, runID, jobID int64) (int64, error) {
	if runID <= 0 || jobID <= 0 {
		return 0, fmt.Errorf("link run %d to job %d: ids must be positive: %w", runID, jobID, ErrInvalid)
	}
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE github_jobs SET job_id = ? WHERE run_id = ? AND job_id IS NULL`), jobID, runID)
	if err != nil {
		return 0, fmt.Errorf("link run %d to job %d: %w", runID, jobID, err)
	}
	return affected(res, "link run")
}

// CompleteQueuedJobsOfRun completes the still-queued jobs of a finished run.
// A run cancelled while jobs wait for a runner does not always produce a
// completed event for each of them, and a stale queued job would keep
// reducing capacity forever. Jobs that are in progress are left to their own
// events, because they hold a runner.
func (q *Q) CompleteQueuedJobsOfRun(ctx context.Context, runID int64, conclusion string) (int64, error) {
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE github_jobs
		SET status = 'completed', status_rank = 2, conclusion = ?, updated_at = ?
		WHERE run_id = ? AND status_rank = 0`), conclusion, q.now(), runID)
	if err != nil {
		return 0, fmt.Errorf("complete queued jobs of run %d: %w", runID, err)
	}
	return affected(res, "complete queued jobs")
}

// DeleteGitHubJobsBefore removes completed jobs last updated before t
// (retention). Unfinished jobs stay: they are live demand or hold a runner.
func (q *Q) DeleteGitHubJobsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM github_jobs WHERE status_rank = 2 AND updated_at < ?`), dbTime(t))
	if err != nil {
		return 0, fmt.Errorf("delete github jobs before %s: %w", t.Format(time.RFC3339), err)
	}
	return affected(res, "delete github jobs")
}
