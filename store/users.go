package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Roles a user or API token can hold.
const (
	RoleAdmin    = "admin"
	RoleReadonly = "readonly"
)

// Where a user's identity comes from.
const (
	UserSourceBasic  = "basic"
	UserSourceGitHub = "github"
)

func validRole(role string) error {
	if role != RoleAdmin && role != RoleReadonly {
		return fmt.Errorf("role %q: want admin or readonly: %w", role, ErrInvalid)
	}
	return nil
}

// User is someone who can log in to the dashboard.
type User struct {
	Username  string    `json:"username" db:"username"`
	Source    string    `json:"source" db:"source"`
	Role      string    `json:"role" db:"role"`
	Disabled  bool      `json:"disabled" db:"disabled"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
	UpdatedAt time.Time `json:"updated_at" db:"updated_at"`
}

// BasicUser is a user of auth.basic.users in the config.
type BasicUser struct {
	Username string
	Role     string
}

// UserSync says what SyncBasicUsers changed.
type UserSync struct {
	// Disabled lists basic users no longer in the config; their sessions are
	// gone.
	Disabled []string
}

const userColumns = `username, source, role, disabled, created_at, updated_at`

// SyncBasicUsers makes the enabled basic users exactly the configured ones.
// A basic user removed from the config is disabled and its sessions deleted,
// so it can neither log in nor keep using a session it already has. A
// configured name that belonged to a GitHub user becomes a basic user and
// loses that GitHub user's sessions: the config is authoritative.
func (q *Q) SyncBasicUsers(ctx context.Context, users []BasicUser) (UserSync, error) {
	want := map[string]string{}
	for _, u := range users {
		if u.Username == "" {
			return UserSync{}, fmt.Errorf("sync basic users: empty username: %w", ErrInvalid)
		}
		if _, dup := want[u.Username]; dup {
			return UserSync{}, fmt.Errorf("sync basic users: %q listed twice: %w", u.Username, ErrInvalid)
		}
		if err := validRole(u.Role); err != nil {
			return UserSync{}, fmt.Errorf("sync basic user %q: %w", u.Username, err)
		}
		want[u.Username] = u.Role
	}
	var res UserSync
	err := q.atomic(ctx, func(q *Q) error {
		var existing []User
		if err := q.x.SelectContext(ctx, &existing, `SELECT `+userColumns+` FROM users`); err != nil {
			return fmt.Errorf("sync basic users: list: %w", err)
		}
		now := q.now()
		for _, old := range existing {
			_, keep := want[old.Username]
			switch {
			case keep && old.Source == UserSourceGitHub:
				if _, err := q.DeleteUserSessions(ctx, old.Username); err != nil {
					return err
				}
			case !keep && old.Source == UserSourceBasic && !old.Disabled:
				if _, err := q.x.ExecContext(ctx, q.rebind(`UPDATE users SET disabled = TRUE, updated_at = ? WHERE username = ?`), now, old.Username); err != nil {
					return fmt.Errorf("disable removed user %q: %w", old.Username, err)
				}
				if _, err := q.DeleteUserSessions(ctx, old.Username); err != nil {
					return err
				}
				res.Disabled = append(res.Disabled, old.Username)
			}
		}
		for _, u := range users {
			_, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO users (`+userColumns+`)
				VALUES (?, 'basic', ?, FALSE, ?, ?)
				ON CONFLICT (username) DO UPDATE SET source = 'basic', role = excluded.role,
					disabled = FALSE, updated_at = excluded.updated_at`), u.Username, u.Role, now, now)
			if err != nil {
				return fmt.Errorf("sync basic user %q: %w", u.Username, err)
			}
		}
		return nil
	})
	if err != nil {
		return UserSync{}, err
	}
	slices.Sort(res.Disabled)
	return res, nil
}

// UpsertGitHubUser records a GitHub user after a successful OAuth login with
// the role the mappings gave, enabling it again if it was disabled. A name
// held by a basic user is ErrConflict: a GitHub account must never take over
// a configured user.
func (q *Q) UpsertGitHubUser(ctx context.Context, username, role string) error {
	if username == "" {
		return fmt.Errorf("store github user: empty username: %w", ErrInvalid)
	}
	if err := validRole(role); err != nil {
		return fmt.Errorf("store github user %q: %w", username, err)
	}
	now := q.now()
	res, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO users (`+userColumns+`)
		VALUES (?, 'github', ?, FALSE, ?, ?)
		ON CONFLICT (username) DO UPDATE SET role = excluded.role, disabled = FALSE,
			updated_at = excluded.updated_at
		WHERE users.source = 'github'`), username, role, now, now)
	if err != nil {
		return fmt.Errorf("store github user %q: %w", username, err)
	}
	n, err := affected(res, "store github user")
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("github user %q: the name belongs to a basic user: %w", username, ErrConflict)
	}
	return nil
}

// DisableUser disables a user and deletes its sessions (e.g. a GitHub user
// whose org membership no longer maps to a role).
func (q *Q) DisableUser(ctx context.Context, username string) error {
	return q.atomic(ctx, func(q *Q) error {
		res, err := q.x.ExecContext(ctx, q.rebind(`UPDATE users SET disabled = TRUE, updated_at = ? WHERE username = ?`), q.now(), username)
		if err != nil {
			return fmt.Errorf("disable user %q: %w", username, err)
		}
		n, err := affected(res, "disable user")
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("disable user %q: %w", username, ErrNotFound)
		}
		_, err = q.DeleteUserSessions(ctx, username)
		return err
	})
}

// GetUser returns one user, disabled or not.
func (q *Q) GetUser(ctx context.Context, username string) (User, error) {
	var u User
	if err := q.x.GetContext(ctx, &u, q.rebind(`SELECT `+userColumns+` FROM users WHERE username = ?`), username); err != nil {
		return User{}, notFound(err, fmt.Sprintf("user %q", username))
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}
