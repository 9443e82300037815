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

// Helpers every file of the store shares.

// atomic runs fn in one transaction: the caller's when q is already bound to
// one (so InTx callers and multi-statement operations such as placing a job,
// claiming or rebalancing stay a single atomic unit), otherwise a new one on
// the pool, committed if fn returns nil and rolled back otherwise.
func (q *Q) atomic(ctx context.Context, fn func(q *Q) error) error {
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
	if err := fn(&Q{x: tx, driver: q.driver, clock: q.clock, inTx: true}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// now is the store clock in UTC, cut to microseconds, the precision
// PostgreSQL keeps, so a timestamp reads back exactly as it was written on
// both databases.
func (q *Q) now() time.Time { return dbTime(q.clock()) }

// selectRows runs query and converts each scanned row R into a T: the one
// select-convert-append loop of the store.
func selectRows[R, T any](ctx context.Context, q *Q, convert func(R) (T, error), query string, args ...any) ([]T, error) {
	var rows []R
	if err := q.x.SelectContext(ctx, &rows, q.rebind(query), args...); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		v, err := convert(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// dbTime normalises a caller-supplied timestamp the same way.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// encodeLabels normalises labels and renders them as the JSON array stored
// in TEXT columns; normalised storage lets comparisons skip case folding.
func encodeLabels(labels []string) (string, error) {
	b, err := json.Marshal(core.NormalizeLabels(labels))
	if err != nil {
		return "", fmt.Errorf("encode labels: %w", err)
	}
	return string(b), nil
}

func decodeLabels(s string) ([]string, error) {
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

// nullID turns 0 into NULL for optional GitHub ids.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// affected reports the rows a statement changed.
func affected(res interface{ RowsAffected() (int64, error) }, what string) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: rows affected: %w", what, err)
	}
	return n, nil
}

// clipText cuts a client-supplied string to at most n bytes of valid UTF-8.
func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
