package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ethpandaops/dispatchoor/core"
)

// Helpers shared by the runtime half of the store (runners, GitHub jobs,
// installations, users, sessions, tokens, audit, secrets). Their names carry
// an "rt" prefix so they cannot collide with the queue half's helpers.

// rtAtomic runs fn in a transaction: the caller's one when q is already bound
// to a transaction (so InTx callers keep a single atomic unit), otherwise a
// new one on the pool.
func (q *Q) rtAtomic(ctx context.Context, fn func(q *Q) error) error {
	if q.inTx {
		return fn(q)
	}
	db, ok := q.x.(*sqlx.DB)
	if !ok {
		return fmt.Errorf("store: query handle %T is neither a pool nor a transaction", q.x)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Q{x: tx, driver: q.driver, now: q.now, inTx: true}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rtNow is the store clock cut to microseconds, the precision PostgreSQL
// keeps, so a timestamp reads back exactly as it was written on both
// databases.
func (q *Q) rtNow() time.Time { return q.now().UTC().Truncate(time.Microsecond) }

// rtTime normalises a caller-supplied timestamp the same way.
func rtTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// rtEncodeLabels normalises labels and renders them as the JSON array stored
// in TEXT columns; normalised storage lets comparisons skip case folding.
func rtEncodeLabels(labels []string) (string, error) {
	b, err := json.Marshal(core.NormalizeLabels(labels))
	if err != nil {
		return "", fmt.Errorf("encode labels: %w", err)
	}
	return string(b), nil
}

func rtDecodeLabels(s string) ([]string, error) {
	if s == "" {
		return []string{}, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("decode labels %q: %w", s, err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// rtNullID turns 0 into NULL for optional GitHub ids.
func rtNullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// rtAffected reports the rows a statement changed.
func rtAffected(res interface{ RowsAffected() (int64, error) }, what string) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: rows affected: %w", what, err)
	}
	return n, nil
}

// rtText cuts a client-supplied string to at most n bytes of valid UTF-8.
func rtText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
