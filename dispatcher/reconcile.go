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
// interrupted, and redelivers failed webhook
// deliveries. Errors of one scope or job do not stop the others; they are
// joined into the result.
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
	var in gh.Installation
	if sc.Org != "" {
		in, err = d.gh.InstallationForOwner(ctx, sc.Org)
	} else {
		in, err = d.gh.InstallationForRepo(ctx, sc.Owner, sc.Repo)
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

// redeliver asks GitHub to send again the App's webhook deliveries that
// failed within RedeliverWindow. Each delivery is redelivered at most once:
// a GUID whose newest attempt already is a redelivery is left alone, and so
// is one this process already redelivered.
//
// Redelivery only speeds up what the reconciler repairs anyway, and every
// request spends the App's own hourly budget — the one installation lookups
// need too. After an outage thousands of deliveries may have failed, so one
// scan sends at most MaxRedeliveries and stops at the first rate limit,
// leaving the rest to later scans (or to the reconciler).
func (d *Dispatcher) redeliver(ctx context.Context) error {
	if d.o.RedeliverWindow < 0 {
		return nil
	}
	now := d.now()
	failed, err := d.gh.ListFailedDeliveries(ctx, now.Add(-d.o.RedeliverWindow))
	if err != nil {
		return fmt.Errorf("redeliver failed webhooks: %w", err)
	}
	var errs error
	sent := 0
	for _, dl := range failed {
		d.mu.Lock()
		done := d.redeliv[dl.GUID]
		d.mu.Unlock()
		if done || dl.Redelivery {
			continue
		}
		if sent >= d.o.MaxRedeliveries {
			d.log.Info().Int("sent", sent).Msg("redelivery cap reached for this scan; the rest waits for the next")
			break
		}
		sent++
		if err := d.gh.Redeliver(ctx, dl.ID); err != nil {
			errs = errors.Join(errs, fmt.Errorf("redeliver %s (%s): %w", dl.GUID, dl.Event, err))
			if gh.RetryAfter(err) > 0 || gh.IsTransient(err) {
				break // rate limited or GitHub unwell: do not spend more now
			}
			continue
		}
		d.mu.Lock()
		if len(d.redeliv) >= maxRemembered {
			// GitHub keeps deliveries for days; the newest attempt of a GUID
			// we redelivered is itself a redelivery, which is skipped above,
			// so forgetting old GUIDs cannot cause a second redelivery.
			clear(d.redeliv)
		}
		d.redeliv[dl.GUID] = true
		d.mu.Unlock()
		d.metrics.Redelivered(dl.Event)
		d.log.Info().Str("delivery", dl.GUID).Str("event", dl.Event).Str("action", dl.Action).
			Time("delivered_at", dl.DeliveredAt).Msg("failed webhook delivery redelivered")
	}
	return errs
}

// maxRemembered bounds the set of redelivered GUIDs kept in memory.
const maxRemembered = 10000

// sinceOr is t, or def when t is nil.
func sinceOr(t *time.Time, def time.Time) time.Time {
	if t == nil {
		return def
	}
	return *t
}
