package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInstallationSuspended: the App is installed on the owner, but the
// installation is suspended; nothing may be dispatched through it.
var ErrInstallationSuspended = errors.New("installation suspended")

// Installation is one installation of the GitHub App on an account.
type Installation struct {
	ID           int64  `json:"id" db:"id"`
	AccountLogin string `json:"account_login" db:"account_login"`
	// AccountType is GitHub's "Organization" or "User".
	AccountType string `json:"account_type" db:"account_type"`
	// RepositorySelection is "all" or "selected".
	RepositorySelection string     `json:"repository_selection" db:"repository_selection"`
	SuspendedAt         *time.Time `json:"suspended_at,omitempty" db:"suspended_at"`
	Deleted             bool       `json:"deleted" db:"deleted"`
	UpdatedAt           time.Time  `json:"updated_at" db:"updated_at"`
}

// Active reports whether the installation may be used to dispatch.
func (i Installation) Active() bool { return !i.Deleted && i.SuspendedAt == nil }

// RepoRef names a repository.
type RepoRef struct {
	Owner string `json:"owner" db:"owner"`
	Repo  string `json:"repo" db:"repo"`
}

func (r RepoRef) String() string { return r.Owner + "/" + r.Repo }

const installationColumns = `id, account_login, account_type, repository_selection, suspended_at, deleted, updated_at`

// UpsertInstallation stores an installation as an installation event or the
// API describes it. An installation seen again is no longer deleted.
func (q *Q) UpsertInstallation(ctx context.Context, in Installation) error {
	if in.ID <= 0 || in.AccountLogin == "" {
		return fmt.Errorf("store installation %d: id and account login are required: %w", in.ID, ErrInvalid)
	}
	if in.AccountType == "" {
		in.AccountType = "Organization"
	}
	if in.RepositorySelection == "" {
		in.RepositorySelection = "all"
	}
	if in.RepositorySelection != "all" && in.RepositorySelection != "selected" {
		return fmt.Errorf("store installation %d: repository selection %q: want all or selected: %w", in.ID, in.RepositorySelection, ErrInvalid)
	}
	var suspended any
	if in.SuspendedAt != nil {
		suspended = dbTime(*in.SuspendedAt)
	}
	_, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO installations (`+installationColumns+`)
		VALUES (?, ?, ?, ?, ?, FALSE, ?)
		ON CONFLICT (id) DO UPDATE SET account_login = excluded.account_login,
			account_type = excluded.account_type, repository_selection = excluded.repository_selection,
			suspended_at = excluded.suspended_at, deleted = FALSE, updated_at = excluded.updated_at`),
		in.ID, in.AccountLogin, in.AccountType, in.RepositorySelection, suspended, q.now())
	if err != nil {
		return fmt.Errorf("store installation %d (%s): %w", in.ID, in.AccountLogin, err)
	}
	return nil
}

// SetInstallationSuspended suspends (at != nil) or unsuspends (nil) an
// installation.
func (q *Q) SetInstallationSuspended(ctx context.Context, id int64, at *time.Time) error {
	var v any
	if at != nil {
		v = dbTime(*at)
	}
	return q.execInstallation(ctx, id, "suspend", `UPDATE installations SET suspended_at = ?, updated_at = ? WHERE id = ?`, v, q.now(), id)
}

// DeleteInstallation flags an installation deleted and forgets its
// repositories; lookups no longer find it.
func (q *Q) DeleteInstallation(ctx context.Context, id int64) error {
	return q.atomic(ctx, func(q *Q) error {
		if err := q.execInstallation(ctx, id, "delete", `UPDATE installations SET deleted = TRUE, updated_at = ? WHERE id = ?`, q.now(), id); err != nil {
			return err
		}
		if _, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM installation_repos WHERE installation_id = ?`), id); err != nil {
			return fmt.Errorf("delete repositories of installation %d: %w", id, err)
		}
		return nil
	})
}

func (q *Q) execInstallation(ctx context.Context, id int64, what, query string, args ...any) error {
	res, err := q.x.ExecContext(ctx, q.rebind(query), args...)
	if err != nil {
		return fmt.Errorf("%s installation %d: %w", what, id, err)
	}
	n, err := affected(res, what+" installation")
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s installation %d: %w", what, id, ErrNotFound)
	}
	return nil
}

// AddInstallationRepos adds repositories to an installation with selected
// repositories; adding one already present is not an error.
func (q *Q) AddInstallationRepos(ctx context.Context, installationID int64, repos []RepoRef) error {
	return q.atomic(ctx, func(q *Q) error {
		for _, r := range repos {
			if r.Owner == "" || r.Repo == "" || strings.Contains(r.Repo, "/") {
				return fmt.Errorf("add repository %q to installation %d: want owner and name: %w", r.String(), installationID, ErrInvalid)
			}
			_, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO installation_repos (installation_id, owner, repo)
				VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
				installationID, strings.ToLower(r.Owner), strings.ToLower(r.Repo))
			if err != nil {
				return fmt.Errorf("add repository %s to installation %d: %w", r, installationID, err)
			}
		}
		return nil
	})
}

// RemoveInstallationRepos removes repositories from an installation.
func (q *Q) RemoveInstallationRepos(ctx context.Context, installationID int64, repos []RepoRef) error {
	return q.atomic(ctx, func(q *Q) error {
		for _, r := range repos {
			_, err := q.x.ExecContext(ctx, q.rebind(`DELETE FROM installation_repos
				WHERE installation_id = ? AND owner = ? AND repo = ?`),
				installationID, strings.ToLower(r.Owner), strings.ToLower(r.Repo))
			if err != nil {
				return fmt.Errorf("remove repository %s from installation %d: %w", r, installationID, err)
			}
		}
		return nil
	})
}

// ListInstallationRepos returns an installation's listed repositories
// (lower-cased), sorted.
func (q *Q) ListInstallationRepos(ctx context.Context, installationID int64) ([]RepoRef, error) {
	var out []RepoRef
	if err := q.x.SelectContext(ctx, &out, q.rebind(`SELECT owner, repo FROM installation_repos
		WHERE installation_id = ? ORDER BY owner, repo`), installationID); err != nil {
		return nil, fmt.Errorf("list repositories of installation %d: %w", installationID, err)
	}
	return out, nil
}

// InstallationForOwner returns the live installation on an account (GitHub
// logins compare case-insensitively). A deleted one is ErrNotFound; a
// suspended one is ErrInstallationSuspended.
func (q *Q) InstallationForOwner(ctx context.Context, owner string) (Installation, error) {
	var in Installation
	err := q.x.GetContext(ctx, &in, q.rebind(`SELECT `+installationColumns+` FROM installations
		WHERE LOWER(account_login) = LOWER(?) AND deleted = FALSE ORDER BY id DESC LIMIT 1`), owner)
	if err != nil {
		return Installation{}, notFound(err, fmt.Sprintf("installation for %s", owner))
	}
	in.UpdatedAt = in.UpdatedAt.UTC()
	if in.SuspendedAt != nil {
		return Installation{}, fmt.Errorf("installation %d for %s: %w", in.ID, owner, ErrInstallationSuspended)
	}
	return in, nil
}

// InstallationForRepo returns the installation that covers a repository: the
// owner's live installation when its selection is "all" or lists the repo.
func (q *Q) InstallationForRepo(ctx context.Context, owner, repo string) (Installation, error) {
	in, err := q.InstallationForOwner(ctx, owner)
	if err != nil {
		return Installation{}, err
	}
	if in.RepositorySelection == "all" {
		return in, nil
	}
	var n int
	if err := q.x.GetContext(ctx, &n, q.rebind(`SELECT COUNT(*) FROM installation_repos
		WHERE installation_id = ? AND owner = ? AND repo = ?`),
		in.ID, strings.ToLower(owner), strings.ToLower(repo)); err != nil {
		return Installation{}, fmt.Errorf("installation for %s/%s: %w", owner, repo, err)
	}
	if n == 0 {
		return Installation{}, fmt.Errorf("installation %d does not include %s/%s: %w", in.ID, owner, repo, ErrNotFound)
	}
	return in, nil
}

// ListInstallations returns every installation, deleted ones included, by id.
func (q *Q) ListInstallations(ctx context.Context) ([]Installation, error) {
	var out []Installation
	if err := q.x.SelectContext(ctx, &out, `SELECT `+installationColumns+` FROM installations ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	for i := range out {
		out[i].UpdatedAt = out[i].UpdatedAt.UTC()
		if out[i].SuspendedAt != nil {
			t := out[i].SuspendedAt.UTC()
			out[i].SuspendedAt = &t
		}
	}
	return out, nil
}
