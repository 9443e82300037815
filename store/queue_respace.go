package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
)

// Crowding is resolved locally. When a job must go between two neighbours
// closer than minGap, only a window of pending jobs around that spot is
// respaced evenly between the window's outer neighbours, which stay where
// they are. A move therefore writes O(window) rows, never the whole queue of
// a 100,000-job group (docs/ARCHITECTURE.md, Job states). The window doubles until it is sparse
// enough; only when no window fits is the whole queue renumbered.
const (
	respaceWindow = 32
	// minSpread is the densest even spacing a respaced window may get. It is
	// far above minGap so that the same spot takes about ten more halvings
	// before it crowds again: a window that would end up denser is widened
	// instead, which spreads a hot spot over its sparser surroundings.
	minSpread = 1024 * minGap
	// respaceChunk bounds the rows of one UPDATE (two parameters each, well
	// under both databases' parameter limits).
	respaceChunk = 256
)

// queueSlot is a pending job's place in its queue. Order is (position, id):
// ties on position, which concurrent writers could leave behind before the
// group lock existed, are broken by id everywhere.
type queueSlot struct {
	ID       int64   `db:"id"`
	Position float64 `db:"position"`
}

// slotsBefore returns up to n pending jobs of the group right before the
// slot (pos, id), nearest first, ignoring exclude. The range on position
// alone lets both databases walk the queue index backwards from the slot;
// the OR only filters ties.
func (q *Q) slotsBefore(ctx context.Context, groupID string, pos float64, id, exclude int64, n int) ([]queueSlot, error) {
	var out []queueSlot
	err := q.x.SelectContext(ctx, &out, q.rebind(`
		SELECT id, position FROM jobs
		WHERE group_id = ? AND status = ? AND id <> ?
			AND position <= ? AND (position < ? OR id < ?)
		ORDER BY position DESC, id DESC LIMIT ?`),
		groupID, core.StatusPending, exclude, pos, pos, id, n)
	if err != nil {
		return nil, fmt.Errorf("jobs before %d: %w", id, err)
	}
	return out, nil
}

// slotsFrom returns up to n pending jobs of the group from the slot (pos, id)
// on, the slot's own job first, ignoring exclude.
func (q *Q) slotsFrom(ctx context.Context, groupID string, pos float64, id, exclude int64, n int) ([]queueSlot, error) {
	var out []queueSlot
	err := q.x.SelectContext(ctx, &out, q.rebind(`
		SELECT id, position FROM jobs
		WHERE group_id = ? AND status = ? AND id <> ?
			AND position >= ? AND (position > ? OR id >= ?)
		ORDER BY position, id LIMIT ?`),
		groupID, core.StatusPending, exclude, pos, pos, id, n)
	if err != nil {
		return nil, fmt.Errorf("jobs from %d: %w", id, err)
	}
	return out, nil
}

// queueEdge returns the position of the first (top) or last pending job of
// the group, ignoring exclude; ok is false for an empty queue.
func (q *Q) queueEdge(ctx context.Context, groupID string, top bool, exclude int64) (pos float64, ok bool, err error) {
	order := "position DESC, id DESC"
	if top {
		order = "position, id"
	}
	err = q.x.GetContext(ctx, &pos, q.rebind("SELECT position FROM jobs WHERE group_id = ? AND status = ? AND id <> ? ORDER BY "+order+" LIMIT 1"),
		groupID, core.StatusPending, exclude)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("queue edge: %w", err)
	}
	return pos, true, nil
}

// respace makes room right before the anchor job by respacing a window of
// its neighbours (the job being moved, exclude, is not part of it). The
// caller holds the group lock, so the window cannot change underneath.
func (q *Q) respace(ctx context.Context, groupID string, anchorID int64, anchorPos float64, exclude int64) error {
	for w := respaceWindow; ; w *= 2 {
		before, err := q.slotsBefore(ctx, groupID, anchorPos, anchorID, exclude, w+1)
		if err != nil {
			return fmt.Errorf("respace %s: %w", groupID, err)
		}
		after, err := q.slotsFrom(ctx, groupID, anchorPos, anchorID, exclude, w+1)
		if err != nil {
			return fmt.Errorf("respace %s: %w", groupID, err)
		}
		var b bounds
		if len(before) > w {
			b.lo, b.hasLo, before = before[w].Position, true, before[:w]
		}
		if len(after) > w {
			b.hi, b.hasHi, after = after[w].Position, true, after[:w]
		}
		window := make([]queueSlot, 0, len(before)+len(after))
		for i := len(before) - 1; i >= 0; i-- {
			window = append(window, before[i])
		}
		window = append(window, after...)
		if pos, ok := b.spread(len(window)); ok {
			return q.writeSlots(ctx, window, pos)
		}
		if !b.hasLo && !b.hasHi {
			return fmt.Errorf("respace %s: %d jobs do not fit in float positions", groupID, len(window))
		}
	}
}

// bounds are the positions of the jobs right outside a window; a missing one
// means the window reaches that end of the queue.
type bounds struct {
	lo, hi       float64
	hasLo, hasHi bool
}

// spread returns n evenly spaced positions strictly inside the bounds, or
// false when they would be denser than minSpread. At an open end the window
// extends past it by positionGap per job, as inserts at the top and bottom do.
func (b bounds) spread(n int) ([]float64, bool) {
	pos := make([]float64, n)
	switch {
	case b.hasLo && b.hasHi:
		step := (b.hi - b.lo) / float64(n+1)
		if step < minSpread {
			return nil, false
		}
		for i := range pos {
			pos[i] = b.lo + float64(i+1)*step
		}
	case b.hasLo:
		for i := range pos {
			pos[i] = b.lo + float64(i+1)*positionGap
		}
	case b.hasHi:
		for i := range pos {
			pos[i] = b.hi - float64(n-i)*positionGap
		}
	default:
		for i := range pos {
			pos[i] = float64(i+1) * positionGap
		}
	}
	// Far from zero, float rounding could make neighbours collide or touch a
	// bound; such a window is refused so that a wider one is tried.
	for i, p := range pos {
		if (i > 0 && p <= pos[i-1]) || (b.hasLo && p <= b.lo) || (b.hasHi && p >= b.hi) {
			return nil, false
		}
	}
	return pos, true
}

// writeSlots sets the positions of the window's jobs, a chunk of rows per
// statement, skipping rows that already sit there.
func (q *Q) writeSlots(ctx context.Context, window []queueSlot, pos []float64) error {
	ids := make([]int64, 0, len(window))
	vals := make([]float64, 0, len(window))
	for i, s := range window {
		if s.Position != pos[i] {
			ids = append(ids, s.ID)
			vals = append(vals, pos[i])
		}
	}
	for start := 0; start < len(ids); start += respaceChunk {
		end := min(start+respaceChunk, len(ids))
		var sb strings.Builder
		args := make([]any, 0, 3*(end-start))
		// PostgreSQL cannot infer a type for a bare parameter in a CASE
		// branch; DOUBLE PRECISION is also a REAL affinity name in SQLite.
		sb.WriteString("UPDATE jobs SET position = CASE id")
		for i := start; i < end; i++ {
			sb.WriteString(" WHEN ? THEN CAST(? AS DOUBLE PRECISION)")
			args = append(args, ids[i], vals[i])
		}
		sb.WriteString(" END WHERE id IN (?" + strings.Repeat(", ?", end-start-1) + ")")
		for i := start; i < end; i++ {
			args = append(args, ids[i])
		}
		if _, err := q.x.ExecContext(ctx, q.rebind(sb.String()), args...); err != nil {
			return fmt.Errorf("respace %d jobs: %w", end-start, err)
		}
	}
	return nil
}
