package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// RunnerRecord is a runner as stored: GitHub's view plus what we track about
// it. It embeds core.Runner so its JSON is the runner's, flat.
type RunnerRecord struct {
	core.Runner
	// InstallationID is the App installation whose token lists the runner's
	// scope; 0 when not known yet.
	InstallationID int64 `json:"installation_id,omitempty"`
	// UpdatedAt is the last change of state (listing or webhook).
	UpdatedAt time.Time `json:"updated_at"`
	// SeenAt is the last time GitHub mentioned the runner at all.
	SeenAt time.Time `json:"seen_at"`
}

// RunnerFilter narrows ListRunners; the zero value lists every runner.
type RunnerFilter struct {
	Scope string
}

type runnerRow struct {
	ID             int64         `db:"id"`
	Name           string        `db:"name"`
	Scope          string        `db:"scope"`
	Labels         string        `db:"labels"`
	Status         string        `db:"status"`
	Busy           bool          `db:"busy"`
	Ephemeral      bool          `db:"ephemeral"`
	CurrentJobID   sql.NullInt64 `db:"current_job_id"`
	InstallationID sql.NullInt64 `db:"installation_id"`
	UpdatedAt      time.Time     `db:"updated_at"`
	SeenAt         time.Time     `db:"seen_at"`
}

const runnerColumns = `id, name, scope, labels, status, busy, ephemeral, current_job_id,
	installation_id, updated_at, seen_at`

func (r runnerRow) record() (RunnerRecord, error) {
	labels, err := decodeLabels(r.Labels)
	if err != nil {
		return RunnerRecord{}, fmt.Errorf("runner %d: %w", r.ID, err)
	}
	return RunnerRecord{
		Runner: core.Runner{
			ID: r.ID, Name: r.Name, Scope: r.Scope, Labels: labels,
			Status: core.RunnerStatus(r.Status), Busy: r.Busy, Ephemeral: r.Ephemeral,
			CurrentJobID: r.CurrentJobID.Int64,
		},
		InstallationID: r.InstallationID.Int64,
		UpdatedAt:      r.UpdatedAt.UTC(),
		SeenAt:         r.SeenAt.UTC(),
	}, nil
}

func validRunnerScope(scope string) error {
	kind, name, ok := strings.Cut(scope, ":")
	switch {
	case !ok || name == "":
		return fmt.Errorf("runner scope %q: want org:NAME or repo:OWNER/NAME: %w", scope, ErrInvalid)
	case kind == "org" && !strings.Contains(name, "/"):
		return nil
	case kind == "repo" && strings.Count(name, "/") == 1 && !strings.HasPrefix(name, "/") && !strings.HasSuffix(name, "/"):
		return nil
	}
	return fmt.Errorf("runner scope %q: want org:NAME or repo:OWNER/NAME: %w", scope, ErrInvalid)
}

func validRunnerStatus(s core.RunnerStatus) error {
	if s != core.RunnerOnline && s != core.RunnerOffline {
		return fmt.Errorf("runner status %q: want online or offline: %w", s, ErrInvalid)
	}
	return nil
}

// UpsertRunnerSeen records a runner that a webhook mentioned. A runner we
// have never listed (typically an ephemeral one that registered without any
// event) is created online and idle with the labels given (often none: the
// workflow_job payload names the runner, not its labels); created tells the
// caller to schedule a reconcile of its scope. A known runner only gets its
// name and seen_at refreshed; its labels and state stay as they are.
func (q *Q) UpsertRunnerSeen(ctx context.Context, r RunnerRecord) (created bool, err error) {
	if r.ID <= 0 {
		return false, fmt.Errorf("record runner: invalid id %d: %w", r.ID, ErrInvalid)
	}
	if err := validRunnerScope(r.Scope); err != nil {
		return false, fmt.Errorf("record runner %d: %w", r.ID, err)
	}
	if r.Status == "" {
		r.Status = core.RunnerOnline
	}
	if err := validRunnerStatus(r.Status); err != nil {
		return false, fmt.Errorf("record runner %d: %w", r.ID, err)
	}
	labels, err := encodeLabels(r.Labels)
	if err != nil {
		return false, fmt.Errorf("record runner %d: %w", r.ID, err)
	}
	now := q.now()
	res, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO runners (`+runnerColumns+`)
		VALUES (?, ?, ?, ?, ?, FALSE, ?, NULL, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
		r.ID, r.Name, r.Scope, labels, string(r.Status), r.Ephemeral, nullID(r.InstallationID), now, now)
	if err != nil {
		return false, fmt.Errorf("record runner %d: %w", r.ID, err)
	}
	n, err := affected(res, "record runner")
	if err != nil {
		return false, err
	}
	if n == 1 {
		return true, nil
	}
	_, err = q.x.ExecContext(ctx, q.rebind(`UPDATE runners SET
		name = CASE WHEN ? = '' THEN name ELSE ? END,
		installation_id = COALESCE(installation_id, ?), seen_at = ?
		WHERE id = ?`), r.Name, r.Name, nullID(r.InstallationID), now, r.ID)
	if err != nil {
		return false, fmt.Errorf("refresh runner %d: %w", r.ID, err)
	}
	return false, nil
}

// MarkRunnerBusy records that a runner has started a GitHub job. It is
// refused (applied false) when that job is already known to be completed: a
// late in_progress must not make a runner busy with a finished job. An
// unknown runner is ErrNotFound; record it with UpsertRunnerSeen first.
func (q *Q) MarkRunnerBusy(ctx context.Context, runnerID, githubJobID int64) (applied bool, err error) {
	if githubJobID <= 0 {
		return false, fmt.Errorf("mark runner %d busy: invalid job id %d: %w", runnerID, githubJobID, ErrInvalid)
	}
	now := q.now()
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE runners
		SET busy = TRUE, status = 'online', current_job_id = ?, updated_at = ?, seen_at = ?
		WHERE id = ? AND NOT EXISTS (
			SELECT 1 FROM github_jobs WHERE github_jobs.id = ? AND github_jobs.status = 'completed')`),
		githubJobID, now, now, runnerID, githubJobID)
	if err != nil {
		return false, fmt.Errorf("mark runner %d busy with job %d: %w", runnerID, githubJobID, err)
	}
	n, err := affected(res, "mark runner busy")
	if err != nil || n == 1 {
		return n == 1, err
	}
	if _, err := q.GetRunner(ctx, runnerID); err != nil {
		return false, fmt.Errorf("mark runner busy with job %d: %w", githubJobID, err)
	}
	return false, nil
}

// StartRunnerJob is MarkRunnerBusy for a workflow_job delivery: it returns
// the runner as stored afterwards and whether its status, busy flag or
// current job changed (what listeners are told about), in one statement when
// something changes, which is the usual case, instead of a read before and
// after. Nothing changing (a repeated in_progress) or a refusal (the job is
// already completed) falls back to MarkRunnerBusy and a read. An unknown
// runner is ErrNotFound; record it with UpsertRunnerSeen first.
func (q *Q) StartRunnerJob(ctx context.Context, runnerID, githubJobID int64) (r RunnerRecord, changed bool, err error) {
	if githubJobID <= 0 {
		return RunnerRecord{}, false, fmt.Errorf("mark runner %d busy: invalid job id %d: %w", runnerID, githubJobID, ErrInvalid)
	}
	now := q.now()
	// The change test is in the WHERE clause, so on PostgreSQL a concurrent
	// update of the row is waited for and the test re-evaluated against it:
	// "changed" compares with the version this update really replaced.
	r, err = q.updateRunnerReturning(ctx, `busy = TRUE, status = 'online', current_job_id = ?, updated_at = ?, seen_at = ?`,
		`(busy = FALSE OR status <> 'online' OR current_job_id IS NULL OR current_job_id <> ?)
		AND NOT EXISTS (SELECT 1 FROM github_jobs WHERE github_jobs.id = ? AND github_jobs.status = 'completed')`,
		githubJobID, now, now, runnerID, githubJobID, githubJobID)
	switch {
	case err == nil:
		return r, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return RunnerRecord{}, false, fmt.Errorf("mark runner %d busy with job %d: %w", runnerID, githubJobID, err)
	}
	if _, err := q.MarkRunnerBusy(ctx, runnerID, githubJobID); err != nil {
		return RunnerRecord{}, false, err
	}
	r, err = q.GetRunner(ctx, runnerID)
	return r, false, err
}

// FreeRunnerOfJob frees a runner only if the job it is busy with is this
// one, and returns the runner as stored after it was freed (the zero record
// when it was not), so a delivery need not read it again to announce the
// change. Webhooks arrive out of order: a late completed event for an older
// job must not free a runner that has since started a newer one. freed is
// false when the runner is unknown or busy with another job.
func (q *Q) FreeRunnerOfJob(ctx context.Context, runnerID, githubJobID int64) (r RunnerRecord, freed bool, err error) {
	now := q.now()
	r, err = q.updateRunnerReturning(ctx, `busy = FALSE, current_job_id = NULL, updated_at = ?, seen_at = ?`,
		`current_job_id = ?`, now, now, runnerID, githubJobID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return RunnerRecord{}, false, nil
	case err != nil:
		return RunnerRecord{}, false, fmt.Errorf("free runner %d after job %d: %w", runnerID, githubJobID, err)
	}
	return r, true, nil
}

// updateRunnerReturning runs "UPDATE runners SET <set> WHERE id = ? AND
// <where> RETURNING" the whole row; args are the set's, the id, then the
// where's. No matching row is sql.ErrNoRows.
func (q *Q) updateRunnerReturning(ctx context.Context, set, where string, args ...any) (RunnerRecord, error) {
	var row runnerRow
	err := q.x.GetContext(ctx, &row, q.rebind(`UPDATE runners SET `+set+` WHERE id = ? AND `+where+
		` RETURNING `+runnerColumns), args...)
	if err != nil {
		return RunnerRecord{}, err
	}
	return row.record()
}

// GetRunner returns one runner.
func (q *Q) GetRunner(ctx context.Context, id int64) (RunnerRecord, error) {
	var row runnerRow
	if err := q.x.GetContext(ctx, &row, q.rebind(`SELECT `+runnerColumns+` FROM runners WHERE id = ?`), id); err != nil {
		return RunnerRecord{}, notFound(err, fmt.Sprintf("runner %d", id))
	}
	return row.record()
}

// ListRunners returns runners ordered by scope and name.
func (q *Q) ListRunners(ctx context.Context, f RunnerFilter) ([]RunnerRecord, error) {
	query, args := `SELECT `+runnerColumns+` FROM runners`, []any{}
	if f.Scope != "" {
		query += ` WHERE scope = ?`
		args = append(args, f.Scope)
	}
	out, err := selectRows(ctx, q, runnerRow.record, query+` ORDER BY scope, name, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list runners: %w", err)
	}
	return out, nil
}

// RemoveRunner deletes a runner (e.g. GitHub answered 404 for it).
func (q *Q) RemoveRunner(ctx context.Context, id int64) error {
	res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM runners WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("remove runner %d: %w", id, err)
	}
	n, err := affected(res, "remove runner")
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("remove runner %d: %w", id, ErrNotFound)
	}
	return nil
}

// CoreRunners strips store bookkeeping, for the capacity calculation.
func CoreRunners(rs []RunnerRecord) []core.Runner {
	out := make([]core.Runner, len(rs))
	for i, r := range rs {
		out[i] = r.Runner
	}
	return out
}
