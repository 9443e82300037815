package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// ScopeListing is the reconciler's authoritative list of one scope's runners.
type ScopeListing struct {
	// Scope is "org:NAME" or "repo:OWNER/NAME".
	Scope          string
	InstallationID int64
	Runners        []core.Runner
	// ListedAt is when the listing was requested. Runners a webhook changed
	// after it keep their status and busy state, and runners first seen after
	// it are not removed: the listing is older than what the webhook told us.
	// Zero turns the guard off.
	ListedAt time.Time
}

// RunnerChanges says what a listing changed, by runner id, ascending.
type RunnerChanges struct {
	Added   []int64 `json:"added"`
	Updated []int64 `json:"updated"`
	Removed []int64 `json:"removed"`
	// Changed holds the added and updated runners as stored after the
	// listing, and Vanished the removed ones as they were last stored, both
	// in id order, for announcing each change (live runner_status updates).
	Changed  []core.Runner `json:"-"`
	Vanished []core.Runner `json:"-"`
}

// Empty reports whether the listing changed nothing.
func (c RunnerChanges) Empty() bool {
	return len(c.Added) == 0 && len(c.Updated) == 0 && len(c.Removed) == 0
}

// ReplaceScopeRunners makes the stored runners of a scope exactly the listed
// ones: new runners are added, listed ones updated, unlisted ones removed.
// Runners of other scopes are untouched. A runner GitHub lists as busy keeps
// the job we know it is running (the listing does not say which job), so a
// later completed event can still free it.
func (q *Q) ReplaceScopeRunners(ctx context.Context, l ScopeListing) (RunnerChanges, error) {
	if err := validRunnerScope(l.Scope); err != nil {
		return RunnerChanges{}, fmt.Errorf("replace runners: %w", err)
	}
	seen := map[int64]bool{}
	for _, r := range l.Runners {
		if r.Scope != "" && r.Scope != l.Scope {
			return RunnerChanges{}, fmt.Errorf("replace runners of %s: runner %d has scope %s: %w", l.Scope, r.ID, r.Scope, ErrInvalid)
		}
		if err := validRunnerStatus(r.Status); err != nil {
			return RunnerChanges{}, fmt.Errorf("replace runners of %s: runner %d: %w", l.Scope, r.ID, err)
		}
		if r.ID <= 0 || seen[r.ID] {
			return RunnerChanges{}, fmt.Errorf("replace runners of %s: runner id %d is invalid or listed twice: %w", l.Scope, r.ID, ErrInvalid)
		}
		seen[r.ID] = true
	}
	var ch RunnerChanges
	err := q.atomic(ctx, func(q *Q) error {
		var rows []runnerRow
		if err := q.x.SelectContext(ctx, &rows, q.rebind(`SELECT `+runnerColumns+` FROM runners WHERE scope = ? ORDER BY id`), l.Scope); err != nil {
			return fmt.Errorf("list runners of %s: %w", l.Scope, err)
		}
		existing := make(map[int64]runnerRow, len(rows))
		for _, r := range rows {
			existing[r.ID] = r
		}
		now := q.now()
		// Rows are written in id order so two writers lock them in the same
		// order and cannot deadlock each other.
		listed := slices.SortedFunc(slices.Values(l.Runners), func(a, b core.Runner) int { return cmp.Compare(a.ID, b.ID) })
		for _, r := range listed {
			r.Scope = l.Scope
			old, known := existing[r.ID]
			if !known {
				if err := q.insertListedRunner(ctx, r, l, now); err != nil {
					return err
				}
				ch.Added = append(ch.Added, r.ID)
				continue
			}
			changed, err := q.updateListedRunner(ctx, old, r, l, now)
			if err != nil {
				return err
			}
			if changed {
				ch.Updated = append(ch.Updated, r.ID)
			}
		}
		for _, old := range rows {
			if seen[old.ID] {
				continue
			}
			// The guard is in SQL, not only in the rows read above: on
			// PostgreSQL a webhook may commit between that read and this
			// statement.
			res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM runners WHERE id = ? AND scope = ? AND seen_at <= ?`),
				old.ID, l.Scope, l.guard())
			if err != nil {
				return fmt.Errorf("remove vanished runner %d of %s: %w", old.ID, l.Scope, err)
			}
			if n, err := affected(res, "remove vanished runner"); err != nil {
				return err
			} else if n == 1 {
				ch.Removed = append(ch.Removed, old.ID)
				rec, err := old.record()
				if err != nil {
					return err
				}
				ch.Vanished = append(ch.Vanished, rec.Runner)
			}
		}
		return q.readChanged(ctx, &ch)
	})
	if err != nil {
		return RunnerChanges{}, err
	}
	slices.Sort(ch.Added)
	slices.Sort(ch.Updated)
	slices.Sort(ch.Removed)
	return ch, nil
}

// readChanged fills ch.Changed with the added and updated runners as they
// are stored now, inside the listing's transaction, so what is announced is
// what was committed (a guarded webhook state included).
func (q *Q) readChanged(ctx context.Context, ch *RunnerChanges) error {
	ids := slices.Concat(ch.Added, ch.Updated)
	slices.Sort(ids)
	for _, id := range ids {
		rec, err := q.GetRunner(ctx, id)
		if err != nil {
			return fmt.Errorf("read changed runner: %w", err)
		}
		ch.Changed = append(ch.Changed, rec.Runner)
	}
	return nil
}

// insertListedRunner stores a runner new to this scope. It may exist under
// another scope (re-registered elsewhere); the listing moves it here.
func (q *Q) insertListedRunner(ctx context.Context, r core.Runner, l ScopeListing, now time.Time) error {
	labels, err := encodeLabels(r.Labels)
	if err != nil {
		return fmt.Errorf("runner %d: %w", r.ID, err)
	}
	var job int64
	if r.Busy {
		job = r.CurrentJobID
	}
	// A webhook may have created the runner since the scope was read; the
	// same ListedAt guard as in updateListedRunner keeps its busy state.
	guard := l.guard()
	_, err = q.x.ExecContext(ctx, q.rebind(`INSERT INTO runners (`+runnerColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, scope = excluded.scope,
			labels = excluded.labels, ephemeral = excluded.ephemeral,
			status = CASE WHEN runners.updated_at > ? THEN runners.status ELSE excluded.status END,
			busy = CASE WHEN runners.updated_at > ? THEN runners.busy ELSE excluded.busy END,
			current_job_id = CASE WHEN runners.updated_at > ? THEN runners.current_job_id
				ELSE excluded.current_job_id END,
			installation_id = COALESCE(excluded.installation_id, runners.installation_id),
			updated_at = CASE WHEN runners.updated_at > ? THEN runners.updated_at ELSE excluded.updated_at END,
			seen_at = excluded.seen_at`),
		r.ID, r.Name, r.Scope, labels, string(r.Status), r.Busy, r.Ephemeral, nullID(job),
		nullID(l.InstallationID), now, now, guard, guard, guard, guard)
	if err != nil {
		return fmt.Errorf("add runner %d to %s: %w", r.ID, r.Scope, err)
	}
	return nil
}

// updateListedRunner applies the listing to a known runner and reports
// whether anything but the timestamps changed. Status and busy state written
// by a webhook after the listing was taken are kept: a listing requested
// before an ephemeral runner's completed event still shows it online and
// idle, and must not undo its retirement (RetireEphemeralRunner), which
// would promise a runner that is deregistering to the next dispatch. That
// decision is made in the UPDATE itself so a webhook committing concurrently
// is not overwritten.
func (q *Q) updateListedRunner(ctx context.Context, old runnerRow, r core.Runner, l ScopeListing, now time.Time) (bool, error) {
	labels, err := encodeLabels(r.Labels)
	if err != nil {
		return false, fmt.Errorf("runner %d: %w", r.ID, err)
	}
	guard := l.guard()
	var listedJob int64
	if r.Busy {
		listedJob = r.CurrentJobID
	}
	var row struct {
		Status string        `db:"status"`
		Busy   bool          `db:"busy"`
		Job    sql.NullInt64 `db:"current_job_id"`
	}
	err = q.x.GetContext(ctx, &row, q.rebind(`UPDATE runners SET name = ?, labels = ?,
		ephemeral = ?, installation_id = COALESCE(?, installation_id), seen_at = ?,
		status = CASE WHEN updated_at > ? THEN status ELSE ? END,
		busy = CASE WHEN updated_at > ? THEN busy ELSE ? END,
		current_job_id = CASE WHEN updated_at > ? THEN current_job_id
			WHEN ? THEN COALESCE(?, current_job_id) ELSE NULL END,
		updated_at = CASE WHEN updated_at > ? THEN updated_at ELSE ? END
		WHERE id = ? RETURNING status, busy, current_job_id`),
		r.Name, labels, r.Ephemeral, nullID(l.InstallationID), now,
		guard, string(r.Status),
		guard, r.Busy,
		guard, r.Busy, nullID(listedJob),
		guard, now,
		r.ID)
	if err != nil {
		return false, notFound(err, fmt.Sprintf("update runner %d of %s", r.ID, l.Scope))
	}
	changed := old.Name != r.Name || old.Labels != labels || old.Status != row.Status ||
		old.Ephemeral != r.Ephemeral || old.Busy != row.Busy || old.CurrentJobID != row.Job
	return changed, nil
}

// guard is the time after which a webhook's word beats the listing's; with
// no ListedAt the listing always wins.
func (l ScopeListing) guard() time.Time {
	if l.ListedAt.IsZero() {
		return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return dbTime(l.ListedAt)
}
