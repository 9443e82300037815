package store

import (
	"context"
	"fmt"
	"time"
)

// PutGitHubUserToken stores the sealed OAuth token of a user who logged in
// through GitHub (or whose token was refreshed), replacing any previous
// one, and counts the moment as a re-check: the login or refresh has just
// asked GitHub. The value must already be sealed (secretbox).
func (q *Q) PutGitHubUserToken(ctx context.Context, login string, sealed []byte) error {
	if login == "" || len(sealed) == 0 {
		return fmt.Errorf("put GitHub token of %q: login and value are required: %w", login, ErrInvalid)
	}
	now := q.now()
	_, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO github_user_tokens (login, sealed, checked_at, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (login) DO UPDATE SET sealed = excluded.sealed, checked_at = excluded.checked_at,
			updated_at = excluded.updated_at`), login, sealed, now, now)
	if err != nil {
		return fmt.Errorf("put GitHub token of %s: %w", login, err)
	}
	return nil
}

// GetGitHubUserToken returns the sealed token held for login, or ErrNotFound.
func (q *Q) GetGitHubUserToken(ctx context.Context, login string) ([]byte, error) {
	var v []byte
	if err := q.x.GetContext(ctx, &v, q.rebind(`SELECT sealed FROM github_user_tokens WHERE login = ?`), login); err != nil {
		return nil, notFound(err, "GitHub token of "+login)
	}
	return v, nil
}

// DeleteGitHubUserToken forgets the token held for login; forgetting a
// token that is not held is not an error.
func (q *Q) DeleteGitHubUserToken(ctx context.Context, login string) error {
	if _, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM github_user_tokens WHERE login = ?`), login); err != nil {
		return fmt.Errorf("delete GitHub token of %s: %w", login, err)
	}
	return nil
}

// ClaimGitHubRechecks marks as checked now, and returns, the users whose
// last re-check is older than staleAfter. The claim is one conditional
// UPDATE: when replicas race, a row already claimed no longer matches
// (PostgreSQL re-evaluates the condition after the row lock; SQLite has
// one writer), so each user is claimed by one replica per interval.
func (q *Q) ClaimGitHubRechecks(ctx context.Context, staleAfter time.Duration) ([]string, error) {
	now := q.now()
	var logins []string
	err := q.x.SelectContext(ctx, &logins, q.rebind(`UPDATE github_user_tokens SET checked_at = ?
		WHERE checked_at <= ? RETURNING login`), now, now.Add(-staleAfter))
	if err != nil {
		return nil, fmt.Errorf("claim GitHub membership re-checks: %w", err)
	}
	return logins, nil
}

// GitHubUserTokenLogins lists the users whose token is held, for tests and
// the operator's view of the table.
func (q *Q) GitHubUserTokenLogins(ctx context.Context) ([]string, error) {
	var logins []string
	if err := q.x.SelectContext(ctx, &logins, `SELECT login FROM github_user_tokens ORDER BY login`); err != nil {
		return nil, fmt.Errorf("list held GitHub tokens: %w", err)
	}
	return logins, nil
}
