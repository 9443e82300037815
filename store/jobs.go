package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ethpandaops/dispatchoor/core"
)

// jobColumns is the column list every job query selects, in jobRow's terms.
const jobColumns = `id, group_id, template_id, name, owner, repo, workflow_id, ref, inputs,
	status, paused, position, auto_requeue, requeue_limit, requeue_count, attempt_id,
	run_id, run_url, runner_name, conclusion, error, source, source_url, created_by,
	cancel_requested, dispatch_after, created_at, updated_at, dispatching_at,
	triggered_at, started_at, completed_at, label_mismatch`

// jobRow is a jobs row as the database holds it: NULLs and JSON text.
type jobRow struct {
	ID              int64          `db:"id"`
	GroupID         string         `db:"group_id"`
	TemplateID      sql.NullString `db:"template_id"`
	Name            string         `db:"name"`
	Owner           string         `db:"owner"`
	Repo            string         `db:"repo"`
	WorkflowID      string         `db:"workflow_id"`
	Ref             string         `db:"ref"`
	Inputs          string         `db:"inputs"`
	Status          string         `db:"status"`
	Paused          bool           `db:"paused"`
	Position        float64        `db:"position"`
	AutoRequeue     bool           `db:"auto_requeue"`
	RequeueLimit    int            `db:"requeue_limit"`
	RequeueCount    int            `db:"requeue_count"`
	AttemptID       sql.NullString `db:"attempt_id"`
	RunID           sql.NullInt64  `db:"run_id"`
	RunURL          string         `db:"run_url"`
	RunnerName      string         `db:"runner_name"`
	Conclusion      string         `db:"conclusion"`
	Error           string         `db:"error"`
	Source          string         `db:"source"`
	SourceURL       string         `db:"source_url"`
	CreatedBy       string         `db:"created_by"`
	CancelRequested bool           `db:"cancel_requested"`
	DispatchAfter   sql.NullTime   `db:"dispatch_after"`
	CreatedAt       time.Time      `db:"created_at"`
	UpdatedAt       time.Time      `db:"updated_at"`
	DispatchingAt   sql.NullTime   `db:"dispatching_at"`
	TriggeredAt     sql.NullTime   `db:"triggered_at"`
	StartedAt       sql.NullTime   `db:"started_at"`
	CompletedAt     sql.NullTime   `db:"completed_at"`
	LabelMismatch   sql.NullString `db:"label_mismatch"`
}

func (r jobRow) job() (core.Job, error) {
	j := core.Job{
		ID: r.ID, GroupID: r.GroupID, TemplateID: r.TemplateID.String, Name: r.Name,
		Owner: r.Owner, Repo: r.Repo, WorkflowID: r.WorkflowID, Ref: r.Ref,
		Status: core.JobStatus(r.Status), Paused: r.Paused, Position: r.Position,
		AutoRequeue: r.AutoRequeue, RequeueLimit: r.RequeueLimit, RequeueCount: r.RequeueCount,
		AttemptID: r.AttemptID.String, RunID: r.RunID.Int64, RunURL: r.RunURL,
		RunnerName: r.RunnerName, Conclusion: r.Conclusion, Error: r.Error,
		Source: core.JobSource(r.Source), SourceURL: r.SourceURL, CreatedBy: r.CreatedBy,
		CancelRequested: r.CancelRequested,
		DispatchAfter:   nullTime(r.DispatchAfter),
		CreatedAt:       r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		DispatchingAt: nullTime(r.DispatchingAt), TriggeredAt: nullTime(r.TriggeredAt),
		StartedAt: nullTime(r.StartedAt), CompletedAt: nullTime(r.CompletedAt),
		LabelMismatch: r.LabelMismatch.String,
	}
	if err := json.Unmarshal([]byte(r.Inputs), &j.Inputs); err != nil {
		return core.Job{}, fmt.Errorf("job %d: decode inputs: %w", r.ID, err)
	}
	return j, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// timeArg binds an optional time; times are always stored in UTC so that
// SQLite's text timestamps sort and compare correctly.
func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// selectJobs runs a query returning jobColumns and attaches labels.
func (q *Q) selectJobs(ctx context.Context, query string, args ...any) ([]core.Job, error) {
	jobs, err := selectRows(ctx, q, jobRow.job, query, args...)
	if err != nil {
		return nil, err
	}
	if err := q.attachLabels(ctx, jobs); err != nil {
		return nil, err
	}
	return jobs, nil
}

func (q *Q) getJobWhere(ctx context.Context, what, where string, args ...any) (core.Job, error) {
	var r jobRow
	err := q.x.GetContext(ctx, &r, q.rebind("SELECT "+jobColumns+" FROM jobs WHERE "+where), args...)
	if err != nil {
		return core.Job{}, notFound(err, what)
	}
	j, err := r.job()
	if err != nil {
		return core.Job{}, err
	}
	jobs := []core.Job{j}
	if err := q.attachLabels(ctx, jobs); err != nil {
		return core.Job{}, err
	}
	return jobs[0], nil
}

// GetJob returns one job with its labels.
func (q *Q) GetJob(ctx context.Context, id int64) (core.Job, error) {
	return q.getJobWhere(ctx, fmt.Sprintf("get job %d", id), "id = ?", id)
}

// FindJobByRunID returns the job whose dispatch created the workflow run.
func (q *Q) FindJobByRunID(ctx context.Context, runID int64) (core.Job, error) {
	return q.getJobWhere(ctx, fmt.Sprintf("find job of run %d", runID), "run_id = ?", runID)
}

// ListJobsByStatus returns every job in one of the statuses, oldest first.
// Meant for active states (the reconciler), which are bounded by runners.
func (q *Q) ListJobsByStatus(ctx context.Context, statuses ...core.JobStatus) ([]core.Job, error) {
	if len(statuses) == 0 {
		return nil, errors.New("list jobs by status: no status given")
	}
	query, args, err := sqlx.In("SELECT "+jobColumns+" FROM jobs WHERE status IN (?) ORDER BY id", statuses)
	if err != nil {
		return nil, fmt.Errorf("list jobs by status: %w", err)
	}
	jobs, err := q.selectJobs(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs by status %v: %w", statuses, err)
	}
	return jobs, nil
}

// attachLabels loads the labels of jobs in one query.
func (q *Q) attachLabels(ctx context.Context, jobs []core.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(jobs))
	ids := make([]int64, 0, len(jobs))
	for i, j := range jobs {
		idx[j.ID] = i
		ids = append(ids, j.ID)
	}
	query, args, err := sqlx.In("SELECT job_id, key, value FROM job_labels WHERE job_id IN (?)", ids)
	if err != nil {
		return fmt.Errorf("load job labels: %w", err)
	}
	var rows []struct {
		JobID int64  `db:"job_id"`
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	if err := q.x.SelectContext(ctx, &rows, q.rebind(query), args...); err != nil {
		return fmt.Errorf("load job labels: %w", err)
	}
	for _, r := range rows {
		j := &jobs[idx[r.JobID]]
		if j.Labels == nil {
			j.Labels = map[string]string{}
		}
		j.Labels[r.Key] = r.Value
	}
	return nil
}

// nullIfEmpty stores "" as NULL, for columns whose uniqueness ignores NULLs.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
