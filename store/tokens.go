package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// APIToken is a named bearer token for automation. Its hash is never
// returned.
type APIToken struct {
	ID         int64      `json:"id" db:"id"`
	Name       string     `json:"name" db:"name"`
	Role       string     `json:"role" db:"role"`
	CreatedBy  string     `json:"created_by" db:"created_by"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" db:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty" db:"revoked_at"`
}

// NewToken describes a token to create; Hash is HashSecret of the value shown
// once to the admin.
type NewToken struct {
	Name      string
	Role      string
	Hash      SecretHash
	CreatedBy string
}

const tokenColumns = `id, name, role, created_by, created_at, last_used_at, revoked_at`

func (t *APIToken) utc() {
	t.CreatedAt = t.CreatedAt.UTC()
	for _, p := range []**time.Time{&t.LastUsedAt, &t.RevokedAt} {
		if *p != nil {
			v := (*p).UTC()
			*p = &v
		}
	}
}

// CreateToken stores a new token. A name already used by a live token, or a
// hash already stored, is ErrDuplicate.
func (q *Q) CreateToken(ctx context.Context, nt NewToken) (APIToken, error) {
	if nt.Name == "" || len(nt.Name) > 100 || nt.CreatedBy == "" || nt.Hash == (SecretHash{}) {
		return APIToken{}, fmt.Errorf("create token %q: name (1-100 characters), creator and hash are required: %w", nt.Name, ErrInvalid)
	}
	if err := validRole(nt.Role); err != nil {
		return APIToken{}, fmt.Errorf("create token %q: %w", nt.Name, err)
	}
	var id int64
	// ON CONFLICT without a target covers both unique keys (live name, hash).
	err := q.x.GetContext(ctx, &id, q.rebind(`INSERT INTO api_tokens
		(name, role, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`), nt.Name, nt.Role, nt.Hash.hex(), nt.CreatedBy, q.now())
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, fmt.Errorf("create token %q: a live token has this name: %w", nt.Name, ErrDuplicate)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("create token %q: %w", nt.Name, err)
	}
	return q.getToken(ctx, "id = ?", id)
}

func (q *Q) getToken(ctx context.Context, where string, arg any) (APIToken, error) {
	var t APIToken
	if err := q.x.GetContext(ctx, &t, q.rebind(`SELECT `+tokenColumns+` FROM api_tokens WHERE `+where), arg); err != nil {
		return APIToken{}, notFound(err, "api token")
	}
	t.utc()
	return t, nil
}

// ListTokens returns every token, revoked ones included, newest first.
func (q *Q) ListTokens(ctx context.Context) ([]APIToken, error) {
	var out []APIToken
	if err := q.x.SelectContext(ctx, &out, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id DESC`); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}

// GetTokenByHash returns the live token with this hash; a revoked or unknown
// token is ErrNotFound.
func (q *Q) GetTokenByHash(ctx context.Context, h SecretHash) (APIToken, error) {
	return q.getToken(ctx, "token_hash = ? AND revoked_at IS NULL", h.hex())
}

// GetLiveToken returns the token with this id if it is not revoked; a
// revoked or unknown token is ErrNotFound. The server re-checks the tokens
// behind open WebSockets with it.
func (q *Q) GetLiveToken(ctx context.Context, id int64) (APIToken, error) {
	return q.getToken(ctx, "id = ? AND revoked_at IS NULL", id)
}

// RevokeToken revokes a live token; an unknown or already revoked one is
// ErrNotFound.
func (q *Q) RevokeToken(ctx context.Context, id int64) (APIToken, error) {
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), q.now(), id)
	if err != nil {
		return APIToken{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	n, err := affected(res, "revoke token")
	if err != nil {
		return APIToken{}, err
	}
	if n == 0 {
		return APIToken{}, fmt.Errorf("revoke token %d: live token: %w", id, ErrNotFound)
	}
	return q.getToken(ctx, "id = ?", id)
}

// TouchToken records a use of a token.
func (q *Q) TouchToken(ctx context.Context, id int64) error {
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), q.now(), id)
	if err != nil {
		return fmt.Errorf("touch token %d: %w", id, err)
	}
	n, err := affected(res, "touch token")
	if err == nil && n == 0 {
		err = fmt.Errorf("touch token %d: %w", id, ErrNotFound)
	}
	return err
}
