package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
			fx.wake("installation unsuspended")
			return h.suspend(ctx, q, in, nil)
		default: // created, new_permissions_accepted, and whatever GitHub adds
			if err := upsertInstallation(ctx, q, in, ""); err != nil {
				return err
			}
			if err := q.AddInstallationRepos(ctx, in.GetID(), repoRefs(ev.Repositories)); err != nil {
				return err
			}
			fx.wake("installation " + ev.GetAction())
			return nil
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
			fx.wake("repositories added to installation")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply installation_repositories %d %s: %w", in.GetID(), ev.GetAction(), err)
	}
	logRepos(log, added, removed)
	return nil
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
