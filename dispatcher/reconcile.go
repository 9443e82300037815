package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
)

// ReconcileNow re-lists every scope's runners, repairs jobs whose events are
// overdue, whose runner the listing shows idle, or whose dispatch was
// interrupted, and redelivers failed webhook deliveries when a scan is due
// (see Options.RedeliverInterval; what the listing and the job repairs just
// found counts as evidence). Errors of one scope or job do not stop the
// others; they are joined into the result.
func (d *Dispatcher) ReconcileNow(ctx context.Context) error {
	scopes, err := d.Scopes(ctx)
	for _, s := range scopes {
		err = errors.Join(err, d.ReconcileScope(ctx, s))
	}
	// Right after a fresh runner listing, jobs whose runner is idle are
	// re-read at once rather than after OverdueAfter.
	err = errors.Join(err, d.reconcileJobs(ctx, true), d.redeliver(ctx))
	return err
}

// Scopes lists the runner scopes of the enabled groups: a group's
// runner_scope, or else "org:OWNER" for each owner of its templates.
func (d *Dispatcher) Scopes(ctx context.Context) ([]string, error) {
	groups, err := d.store.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list scopes: %w", err)
	}
	var out []string
	for _, g := range groups {
		if !g.Enabled {
			continue
		}
		if g.RunnerScope != "" {
			out = append(out, g.RunnerScope)
			continue
		}
		ts, err := d.store.ListTemplates(ctx, g.ID)
		if err != nil {
			return nil, fmt.Errorf("list scopes: templates of group %s: %w", g.ID, err)
		}
		for _, t := range ts {
			out = append(out, "org:"+strings.ToLower(t.Owner))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ReconcileScope replaces the stored runners of one scope ("org:NAME" or
// "repo:OWNER/NAME") with GitHub's listing: new runners are added, changed
// ones updated, vanished ones (finished ephemeral runners) removed.
func (d *Dispatcher) ReconcileScope(ctx context.Context, scope string) error {
	err := d.reconcileScope(ctx, scope)
	d.metrics.Reconciled(scope, err)
	return err
}

func (d *Dispatcher) reconcileScope(ctx context.Context, scope string) error {
	sc, err := gh.ParseScope(scope)
	if err != nil {
		return fmt.Errorf("reconcile runners: %w", err)
	}
	lookup := func() (gh.Installation, error) {
		if sc.Org != "" {
			return d.gh.InstallationForOwner(ctx, sc.Org)
		}
		return d.gh.InstallationForRepo(ctx, sc.Owner, sc.Repo)
	}
	in, err := lookup()
	if errors.Is(err, gh.ErrNotInstalled) || err == nil && in.Suspended {
		// The cached answer may predate an installation webhook another
		// replica received (and asked for this listing): ask GitHub.
		d.gh.ForgetInstallationFor(sc.Org+sc.Owner, sc.Repo)
		in, err = lookup()
	}
	if err != nil {
		return fmt.Errorf("reconcile runners of %s: find installation: %w", scope, err)
	}
	if in.Suspended {
		return fmt.Errorf("reconcile runners of %s: installation %d is suspended", scope, in.ID)
	}
	// Taken before the request: a webhook applied after this moment is
	// newer than the listing and wins over it (see store.ScopeListing).
	listedAt := d.now()
	runners, err := d.gh.ListRunners(ctx, in.ID, sc.String())
	if err != nil {
		return fmt.Errorf("reconcile runners of %s: %w", scope, err)
	}
	d.noteRunnerDrift(ctx, sc.String(), runners, listedAt)
	ch, err := d.store.ReplaceScopeRunners(ctx, store.ScopeListing{
		Scope: sc.String(), InstallationID: in.ID, Runners: runners, ListedAt: listedAt,
	})
	if err != nil {
		return fmt.Errorf("reconcile runners of %s: %w", scope, err)
	}
	if !ch.Empty() {
		d.log.Info().Str("scope", scope).Int("listed", len(runners)).Ints64("added", ch.Added).
			Ints64("updated", ch.Updated).Ints64("removed", ch.Removed).Msg("runners reconciled")
	}
	for _, r := range ch.Changed {
		d.runners.RunnerChanged(r)
	}
	for _, r := range ch.Vanished {
		r.Status, r.Busy, r.CurrentJobID = core.RunnerOffline, false, 0
		d.runners.RunnerChanged(r)
	}
	if len(ch.Added) > 0 || len(ch.Updated) > 0 {
		d.Wake("runners reconciled")
	}
	return nil
}

// sinceOr is t, or def when t is nil.
func sinceOr(t *time.Time, def time.Time) time.Time {
	if t == nil {
		return def
	}
	return *t
}
