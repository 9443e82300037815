package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

const groupColumns = `id, name, runner_labels, runner_scope, max_concurrent, paused, enabled`

type groupRow struct {
	ID            string `db:"id"`
	Name          string `db:"name"`
	RunnerLabels  string `db:"runner_labels"`
	RunnerScope   string `db:"runner_scope"`
	MaxConcurrent int    `db:"max_concurrent"`
	Paused        bool   `db:"paused"`
	Enabled       bool   `db:"enabled"`
}

func (r groupRow) group() (core.Group, error) {
	g := core.Group{
		ID: r.ID, Name: r.Name, RunnerScope: r.RunnerScope,
		MaxConcurrent: r.MaxConcurrent, Paused: r.Paused, Enabled: r.Enabled,
	}
	if err := json.Unmarshal([]byte(r.RunnerLabels), &g.RunnerLabels); err != nil {
		return core.Group{}, fmt.Errorf("group %s: decode runner_labels: %w", r.ID, err)
	}
	return g, nil
}

// SyncResult says what a config sync changed beyond plain upserts.
type SyncResult struct {
	// DisabledGroups were enabled and are no longer in the config.
	DisabledGroups []string
	// RemovedTemplates were deleted because the config no longer has them.
	RemovedTemplates []string
}

// SyncConfig makes the groups and templates tables match the config, in one
// transaction. Runtime state survives: a paused group stays paused, a
// template's label mismatch flag stays set. A group that left the config is
// disabled, never deleted (its jobs and history remain), so it can no longer
// dispatch; a group that comes back is enabled again. Templates that left the
// config are deleted; jobs keep their template_id as plain text.
func (q *Q) SyncConfig(ctx context.Context, groups []core.Group, templates []core.Template) (SyncResult, error) {
	var res SyncResult
	err := q.atomic(ctx, func(q *Q) error {
		now := q.now()
		inConfig := make(map[string]bool, len(groups))
		for _, g := range groups {
			if err := q.upsertGroup(ctx, g, now); err != nil {
				return err
			}
			inConfig[g.ID] = true
		}
		var enabled []string
		if err := q.x.SelectContext(ctx, &enabled, q.rebind("SELECT id FROM groups WHERE enabled = ? ORDER BY id"), true); err != nil {
			return fmt.Errorf("list enabled groups: %w", err)
		}
		for _, id := range enabled {
			if inConfig[id] {
				continue
			}
			if _, err := q.x.ExecContext(ctx, q.rebind("UPDATE groups SET enabled = ?, updated_at = ? WHERE id = ?"), false, now, id); err != nil {
				return fmt.Errorf("disable group %s: %w", id, err)
			}
			res.DisabledGroups = append(res.DisabledGroups, id)
		}

		keep := make(map[string]bool, len(templates))
		for _, t := range templates {
			if !inConfig[t.GroupID] {
				return fmt.Errorf("sync template %s: group %q is not in the config", t.ID, t.GroupID)
			}
			if err := q.upsertTemplate(ctx, t, now); err != nil {
				return err
			}
			keep[t.ID] = true
		}
		var existing []string
		if err := q.x.SelectContext(ctx, &existing, "SELECT id FROM templates ORDER BY id"); err != nil {
			return fmt.Errorf("list templates: %w", err)
		}
		for _, id := range existing {
			if keep[id] {
				continue
			}
			if _, err := q.x.ExecContext(ctx, q.rebind("DELETE FROM templates WHERE id = ?"), id); err != nil {
				return fmt.Errorf("delete template %s: %w", id, err)
			}
			res.RemovedTemplates = append(res.RemovedTemplates, id)
		}
		return nil
	})
	if err != nil {
		return SyncResult{}, fmt.Errorf("sync config: %w", err)
	}
	return res, nil
}

func (q *Q) upsertGroup(ctx context.Context, g core.Group, now time.Time) error {
	if g.ID == "" {
		return fmt.Errorf("sync group: empty id")
	}
	labels := g.RunnerLabels
	if labels == nil {
		labels = []string{}
	}
	lj, err := jsonText(labels)
	if err != nil {
		return fmt.Errorf("sync group %s: encode runner_labels: %w", g.ID, err)
	}
	// paused is deliberately absent from the update: it is runtime state.
	_, err = q.x.ExecContext(ctx, q.rebind(`
		INSERT INTO groups (id, name, runner_labels, runner_scope, max_concurrent, paused, enabled, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			name = excluded.name, runner_labels = excluded.runner_labels,
			runner_scope = excluded.runner_scope, max_concurrent = excluded.max_concurrent,
			enabled = excluded.enabled, updated_at = excluded.updated_at`),
		g.ID, g.Name, lj, g.RunnerScope, g.MaxConcurrent, g.Paused, true, now)
	if err != nil {
		return fmt.Errorf("sync group %s: %w", g.ID, err)
	}
	return nil
}

// ListGroups returns every group, disabled ones included, by id.
func (q *Q) ListGroups(ctx context.Context) ([]core.Group, error) {
	out, err := selectRows(ctx, q, groupRow.group, "SELECT "+groupColumns+" FROM groups ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return out, nil
}

// GetGroup returns one group.
func (q *Q) GetGroup(ctx context.Context, id string) (core.Group, error) {
	return q.getGroup(ctx, id, false)
}

// lockGroup reads a group and, on PostgreSQL, locks its row until the
// transaction ends. Operations that compute queue positions or claim jobs
// take it, so two replicas serialise per group instead of computing the same
// position or claiming past a pause. SQLite transactions are already
// serialised (BEGIN IMMEDIATE). NO KEY UPDATE does not block inserts of jobs
// whose foreign key points at the group.
func (q *Q) lockGroup(ctx context.Context, id string) (core.Group, error) {
	return q.getGroup(ctx, id, true)
}

func (q *Q) getGroup(ctx context.Context, id string, lock bool) (core.Group, error) {
	query := "SELECT " + groupColumns + " FROM groups WHERE id = ?"
	if lock && q.driver == DriverPostgres {
		query += " FOR NO KEY UPDATE"
	}
	var r groupRow
	if err := q.x.GetContext(ctx, &r, q.rebind(query), id); err != nil {
		return core.Group{}, notFound(err, fmt.Sprintf("get group %s", id))
	}
	return r.group()
}

// SetGroupPaused pauses or unpauses a group and reports whether that changed
// anything (pausing a paused group is not an error, and emits nothing).
func (q *Q) SetGroupPaused(ctx context.Context, id string, paused bool) (bool, error) {
	res, err := q.x.ExecContext(ctx, q.rebind("UPDATE groups SET paused = ?, updated_at = ? WHERE id = ? AND paused <> ?"),
		paused, q.now(), id, paused)
	if err != nil {
		return false, fmt.Errorf("set group %s paused=%t: %w", id, paused, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("set group %s paused=%t: %w", id, paused, err)
	}
	if n == 0 {
		if _, err := q.GetGroup(ctx, id); err != nil {
			return false, err
		}
		return false, nil
	}
	return true, nil
}
