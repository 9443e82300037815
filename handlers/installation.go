package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/store"
)

// Installation keeps the App's installations current from installation
// events. A suspended or deleted installation stops dispatching: the store's
// installation lookups refuse it.
type Installation struct{ *base }

// Handles implements githubapp.EventHandler.
func (h *Installation) Handles() []string { return []string{"installation"} }

// Handle implements githubapp.EventHandler.
func (h *Installation) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.InstallationEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badPayload("decode installation: %v", err)
	}
	in := ev.GetInstallation()
	if err := checkInstallation("installation", in, ""); err != nil {
		return err
	}
	log := h.logger(ctx, in.GetID()).With().Str("account", in.GetAccount().GetLogin()).Str("action", ev.GetAction()).Logger()
	_, err := h.apply(ctx, deliveryID, eventType, ev.GetAction(), func(q *store.Q, fx *effects) error {
		fx.installations = true
		switch ev.GetAction() {
		case "deleted":
			err := q.DeleteInstallation(ctx, in.GetID())
			if errors.Is(err, store.ErrNotFound) {
				return nil // never knew it: nothing to forget
			}
			return err
		case "suspend":
			at := in.GetSuspendedAt().Time
			if at.IsZero() {
				at = time.Now()
			}
			return h.suspend(ctx, q, in, &at)
		case "unsuspend":
			if err := h.suspend(ctx, q, in, nil); err != nil {
				return err
			}
			return h.resume(ctx, q, fx, in.GetAccount().GetLogin(), "installation unsuspended")
		default: // created, new_permissions_accepted, and whatever GitHub adds
			if err := upsertInstallation(ctx, q, in, ""); err != nil {
				return err
			}
			if err := q.AddInstallationRepos(ctx, in.GetID(), repoRefs(ev.Repositories)); err != nil {
				return err
			}
			return h.resume(ctx, q, fx, in.GetAccount().GetLogin(), "installation "+ev.GetAction())
		}
	})
	if err != nil {
		return fmt.Errorf("apply installation %d %s: %w", in.GetID(), ev.GetAction(), err)
	}
	log.Info().Msg("installation event applied")
	return nil
}

// suspend sets or clears the suspension, storing the installation first when
// this is the first we hear of it.
func (h *Installation) suspend(ctx context.Context, q *store.Q, in *github.Installation, at *time.Time) error {
	err := q.SetInstallationSuspended(ctx, in.GetID(), at)
	if errors.Is(err, store.ErrNotFound) {
		c := *in
		if at != nil {
			c.SuspendedAt = &github.Timestamp{Time: *at}
		} else {
			c.SuspendedAt = nil
		}
		return upsertInstallation(ctx, q, &c, "")
	}
	return err
}

// InstallationRepositories keeps an installation's repository selection
// current.
type InstallationRepositories struct{ *base }

// Handles implements githubapp.EventHandler.
func (h *InstallationRepositories) Handles() []string {
	return []string{"installation_repositories"}
}

// Handle implements githubapp.EventHandler.
func (h *InstallationRepositories) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.InstallationRepositoriesEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badPayload("decode installation_repositories: %v", err)
	}
	in := ev.GetInstallation()
	if err := checkInstallation("installation_repositories", in, ev.GetRepositorySelection()); err != nil {
		return err
	}
	log := h.logger(ctx, in.GetID())
	added, removed := repoRefs(ev.RepositoriesAdded), repoRefs(ev.RepositoriesRemoved)
	_, err := h.apply(ctx, deliveryID, eventType, ev.GetAction(), func(q *store.Q, fx *effects) error {
		fx.installations = true
		// The payload describes the whole installation: store it, so an
		// installation created while we were down is known from here on.
		if err := upsertInstallation(ctx, q, in, ev.GetRepositorySelection()); err != nil {
			return err
		}
		if err := q.AddInstallationRepos(ctx, in.GetID(), added); err != nil {
			return err
		}
		if err := q.RemoveInstallationRepos(ctx, in.GetID(), removed); err != nil {
			return err
		}
		if len(added) > 0 {
			return h.resume(ctx, q, fx, in.GetAccount().GetLogin(), "repositories added to installation")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply installation_repositories %d %s: %w", in.GetID(), ev.GetAction(), err)
	}
	logRepos(log, added, removed)
	return nil
}

// resume makes an installation that became usable on account take effect
// at once rather than at the next reconcile: the jobs of account that
// waited for it lose their back-off, the runner scopes of account's groups
// are re-listed now (while the App was away no workflow_job webhook told us
// about them), and the dispatcher is woken (docs/ARCHITECTURE.md, "Event
// flow").
func (b *base) resume(ctx context.Context, q *store.Q, fx *effects, account, why string) error {
	outs, err := b.queue.ResumeOwnerTx(ctx, q, account)
	if err != nil {
		return fmt.Errorf("resume the jobs of %s: %w", account, err)
	}
	fx.jobs = append(fx.jobs, outs...)
	scopes, err := ownerScopes(ctx, q, account)
	if err != nil {
		return err
	}
	for _, s := range scopes {
		fx.schedule(s, 0)
	}
	fx.wake(why)
	return nil
}

// ownerScopes are the runner scopes of the enabled groups that belong to
// account: a group's runner_scope on account, or "org:account" for a group
// without one whose templates run in account's repositories (the scopes the
// reconciler lists, see dispatcher.Scopes).
func ownerScopes(ctx context.Context, q *store.Q, account string) ([]string, error) {
	groups, err := q.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the runner scopes of %s: %w", account, err)
	}
	var out []string
	for _, g := range groups {
		if !g.Enabled {
			continue
		}
		if g.RunnerScope != "" {
			if scopeOwner(g.RunnerScope) == strings.ToLower(account) {
				out = append(out, g.RunnerScope)
			}
			continue
		}
		ts, err := q.ListTemplates(ctx, g.ID)
		if err != nil {
			return nil, fmt.Errorf("list the runner scopes of %s: templates of group %s: %w", account, g.ID, err)
		}
		for _, t := range ts {
			if strings.EqualFold(t.Owner, account) {
				out = append(out, "org:"+strings.ToLower(t.Owner))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// scopeOwner is the lower-cased account of "org:NAME" or "repo:OWNER/NAME".
func scopeOwner(scope string) string {
	kind, rest, _ := strings.Cut(scope, ":")
	if kind == "repo" {
		rest, _, _ = strings.Cut(rest, "/")
	}
	return strings.ToLower(rest)
}

func logRepos(log zerolog.Logger, added, removed []store.RepoRef) {
	names := func(rs []store.RepoRef) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.String()
		}
		return out
	}
	log.Info().Strs("added", names(added)).Strs("removed", names(removed)).Msg("installation repositories updated")
}

func upsertInstallation(ctx context.Context, q *store.Q, in *github.Installation, selection string) error {
	if selection == "" {
		selection = in.GetRepositorySelection()
	}
	var suspended *time.Time
	if in.SuspendedAt != nil && !in.SuspendedAt.IsZero() {
		t := in.SuspendedAt.Time
		suspended = &t
	}
	return q.UpsertInstallation(ctx, store.Installation{
		ID: in.GetID(), AccountLogin: in.GetAccount().GetLogin(), AccountType: in.GetAccount().GetType(),
		RepositorySelection: selection, SuspendedAt: suspended,
	})
}

// repoRefs turns payload repositories (full_name "owner/name") into refs.
func repoRefs(repos []*github.Repository) []store.RepoRef {
	out := make([]store.RepoRef, 0, len(repos))
	for _, r := range repos {
		owner, name, ok := strings.Cut(r.GetFullName(), "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			continue // not a repository GitHub could name
		}
		out = append(out, store.RepoRef{Owner: owner, Repo: name})
	}
	return out
}

var (
	_ githubapp.EventHandler = (*Installation)(nil)
	_ githubapp.EventHandler = (*InstallationRepositories)(nil)
)
