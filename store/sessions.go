package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// SecretHash is the SHA-256 of a session or API token. Only hashes reach the
// database, so a leaked database or backup grants no access; the distinct
// type keeps a raw token from being passed where a hash is expected.
type SecretHash [sha256.Size]byte

// HashSecret hashes a raw session or API token. The tokens are 256-bit random
// values, so a plain (unsalted, fast) hash is enough: there is nothing to
// brute-force.
func HashSecret(raw string) SecretHash { return sha256.Sum256([]byte(raw)) }

func (h SecretHash) hex() string { return hex.EncodeToString(h[:]) }

// maxUserAgent bounds what a client can make us store.
const maxUserAgent = 512

// Session is a logged-in browser.
type Session struct {
	Hash     SecretHash `json:"-"`
	Username string     `json:"username"`
	// Role is the user's current role (GetSession reads it from the user, so a
	// config change applies to sessions at once).
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	UserAgent  string    `json:"user_agent"`
}

type sessionRow struct {
	IDHash     string    `db:"id_hash"`
	Username   string    `db:"username"`
	Role       string    `db:"role"`
	CreatedAt  time.Time `db:"created_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	UserAgent  string    `db:"user_agent"`
}

func (r sessionRow) session() (Session, error) {
	var h SecretHash
	b, err := hex.DecodeString(r.IDHash)
	if err != nil || len(b) != len(h) {
		return Session{}, fmt.Errorf("session of %q: stored hash is malformed", r.Username)
	}
	copy(h[:], b)
	return Session{
		Hash: h, Username: r.Username, Role: r.Role, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), UserAgent: r.UserAgent,
	}, nil
}

// CreateSession stores a session for an enabled user, with the user's role.
// s.Hash, s.Username and s.ExpiresAt are required; the rest is filled in.
func (q *Q) CreateSession(ctx context.Context, s Session) (Session, error) {
	if s.Hash == (SecretHash{}) || s.Username == "" {
		return Session{}, fmt.Errorf("create session: hash and username are required: %w", ErrInvalid)
	}
	now := q.now()
	s.ExpiresAt = dbTime(s.ExpiresAt)
	if !s.ExpiresAt.After(now) {
		return Session{}, fmt.Errorf("create session for %q: expiry %s is not in the future: %w", s.Username, s.ExpiresAt.Format(time.RFC3339), ErrInvalid)
	}
	// The user agent is whatever the client sent: cut it to size and drop
	// invalid UTF-8, which PostgreSQL would refuse (failing the login).
	if len(s.UserAgent) > maxUserAgent {
		s.UserAgent = s.UserAgent[:maxUserAgent]
	}
	s.UserAgent = strings.ToValidUTF8(s.UserAgent, "")
	res, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO sessions
		(id_hash, username, role, created_at, expires_at, last_seen_at, user_agent)
		SELECT ?, username, role, ?, ?, ?, ? FROM users WHERE username = ? AND disabled = FALSE`),
		s.Hash.hex(), now, s.ExpiresAt, now, s.UserAgent, s.Username)
	if err != nil {
		return Session{}, fmt.Errorf("create session for %q: %w", s.Username, err)
	}
	n, err := affected(res, "create session")
	if err != nil {
		return Session{}, err
	}
	if n == 0 {
		return Session{}, fmt.Errorf("create session: enabled user %q: %w", s.Username, ErrNotFound)
	}
	return q.GetSession(ctx, s.Hash)
}

// GetSession returns a live session. An expired session, or one whose user
// was disabled or removed, is ErrNotFound.
func (q *Q) GetSession(ctx context.Context, h SecretHash) (Session, error) {
	var row sessionRow
	err := q.x.GetContext(ctx, &row, q.rebind(`SELECT s.id_hash, s.username, u.role, s.created_at,
			s.expires_at, s.last_seen_at, s.user_agent
		FROM sessions s JOIN users u ON u.username = s.username
		WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = FALSE`), h.hex(), q.now())
	if err != nil {
		return Session{}, notFound(err, "session")
	}
	return row.session()
}

// TouchSession records that a session was just used.
func (q *Q) TouchSession(ctx context.Context, h SecretHash) error {
	res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`), q.now(), h.hex())
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	n, err := affected(res, "touch session")
	if err == nil && n == 0 {
		err = fmt.Errorf("touch session: %w", ErrNotFound)
	}
	return err
}

// DeleteSession ends one session (logout). An unknown session is
// ErrNotFound, which a logout handler may ignore.
func (q *Q) DeleteSession(ctx context.Context, h SecretHash) error {
	res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM sessions WHERE id_hash = ?`), h.hex())
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	n, err := affected(res, "delete session")
	if err == nil && n == 0 {
		err = fmt.Errorf("delete session: %w", ErrNotFound)
	}
	return err
}

// DeleteUserSessions ends every session of a user and says how many.
func (q *Q) DeleteUserSessions(ctx context.Context, username string) (int64, error) {
	res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM sessions WHERE username = ?`), username)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %q: %w", username, err)
	}
	return affected(res, "delete user sessions")
}

// CountLiveSessions says how many live sessions an enabled user has (none
// for a disabled or unknown user).
func (q *Q) CountLiveSessions(ctx context.Context, username string) (int, error) {
	var n int
	err := q.x.GetContext(ctx, &n, q.rebind(`SELECT COUNT(*) FROM sessions s JOIN users u ON u.username = s.username
		WHERE s.username = ? AND s.expires_at > ? AND u.disabled = FALSE`), username, q.now())
	if err != nil {
		return 0, fmt.Errorf("count sessions of %q: %w", username, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (q *Q) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM sessions WHERE expires_at <= ?`), q.now())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return affected(res, "delete expired sessions")
}
