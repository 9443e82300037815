package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store"
)

// sweepState is what the delivery sweeper remembers between scans; it is
// guarded by Dispatcher.mu.
type sweepState struct {
	// lastScan is when the last complete scan started; zero before the
	// first, so the first reconcile after a start (which may follow an
	// outage) scans.
	lastScan time.Time
	// since is where the next scan may stop looking: every delivery
	// delivered before it has been examined and dealt with.
	since time.Time
	// due is evidence of lost webhooks (or deliveries left for later):
	// the next reconcile scans whatever the interval says.
	due    bool
	reason string
	// running: a scan is under way (ReconcileNow may be called from the
	// API beside the loop); another one would read the same pages.
	running bool
}

// deliveryOverlap is how far before a scan's start the next scan looks
// again. delivered_at is GitHub's clock, not ours, and a delivery GitHub
// was still attempting (it waits up to 10s for our answer) may be listed
// only after the scan; two minutes covers both with room, and costs at
// most the deliveries of those two minutes, usually within the one page a
// scan always reads.
const deliveryOverlap = 2 * time.Minute

// noteLostWebhooks records evidence that webhooks were lost, so the next
// ReconcileNow scans for failed deliveries.
func (d *Dispatcher) noteLostWebhooks(reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.sweep.due {
		d.sweep.due, d.sweep.reason = true, reason
	}
}

// noteRunnerDrift compares a fresh listing of scope with the runners
// stored before it is applied. A runner the listing shows busy that we
// believe idle (or the other way round) is what a lost workflow_job
// webhook leaves behind. Runners a webhook changed after the listing was
// requested are newer than it and say nothing; runners new to us and
// online/offline changes come without webhooks anyway. A webhook still in
// flight can make this fire needlessly, which costs one scan.
func (d *Dispatcher) noteRunnerDrift(ctx context.Context, scope string, listed []core.Runner, listedAt time.Time) {
	d.mu.Lock()
	skip := d.sweep.due || d.opts.RedeliverWindow < 0
	d.mu.Unlock()
	if skip {
		return
	}
	stored, err := d.store.ListRunners(ctx, store.RunnerFilter{Scope: scope})
	if err != nil {
		d.log.Warn().Err(err).Str("scope", scope).Msg("compare listing with stored runners")
		return
	}
	byID := make(map[int64]store.RunnerRecord, len(stored))
	for _, s := range stored {
		byID[s.ID] = s
	}
	for _, r := range listed {
		s, ok := byID[r.ID]
		if !ok || s.UpdatedAt.After(listedAt) || s.Busy == r.Busy {
			continue
		}
		d.noteLostWebhooks(fmt.Sprintf("runner %d of %s is busy=%t on GitHub, busy=%t here", r.ID, scope, r.Busy, s.Busy))
		return
	}
}

// beginSweep decides whether this reconcile scans and from when. It takes
// the evidence, which endSweep gives back when the scan fails.
func (d *Dispatcher) beginSweep(now time.Time) (since time.Time, reason string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &d.sweep
	switch {
	case st.running:
		return time.Time{}, "", false
	case st.lastScan.IsZero():
		reason = "first reconcile since start"
	case st.due:
		reason = st.reason
	case now.Sub(st.lastScan) >= d.opts.RedeliverInterval:
		reason = "redeliver_interval elapsed"
	default:
		return time.Time{}, "", false
	}
	st.due, st.reason, st.running = false, "", true
	since = now.Add(-d.opts.RedeliverWindow)
	if st.since.After(since) {
		since = st.since
	}
	return since, reason, true
}

// endSweep records a scan's outcome. A failed listing leaves everything as
// it was (the next reconcile tries again). After a listing, the next scan
// starts from the oldest delivery left undone, or else from just before
// this scan; leftovers make the next reconcile scan.
func (d *Dispatcher) endSweep(start time.Time, listed bool, leftover *gh.Delivery, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &d.sweep
	st.running = false
	if !listed {
		if !st.due {
			st.due, st.reason = true, reason
		}
		return
	}
	st.lastScan = start
	st.since = start.Add(-deliveryOverlap)
	if leftover != nil {
		if leftover.DeliveredAt.Before(st.since) {
			st.since = leftover.DeliveredAt
		}
		st.due, st.reason = true, "failed deliveries left for the next scan"
	}
}

// redeliver asks GitHub to send again the App's webhook deliveries that
// failed within RedeliverWindow, once per RedeliverInterval (sweepLoop's
// timer, or a reconcile that comes first) and sooner when there is evidence
// of lost webhooks (see Options.RedeliverInterval). Each
// delivery is redelivered at most once: a GUID whose newest attempt
// already is a redelivery is left alone, and so is one this process
// already redelivered.
//
// A scan pages only through deliveries newer than what earlier scans
// examined. Redelivery only speeds up what the reconciler repairs anyway,
// and every request spends the App's own hourly budget, the one
// installation lookups need too. After an outage thousands of deliveries
// may have failed, so one scan sends at most MaxRedeliveries, oldest first,
// and stops at the first rate limit or transient error; the next scan
// starts from the oldest one left, so it is seen again.
func (d *Dispatcher) redeliver(ctx context.Context) error {
	if d.opts.RedeliverWindow < 0 {
		return nil
	}
	start := d.now()
	since, reason, ok := d.beginSweep(start)
	if !ok {
		return nil
	}
	failed, err := d.gh.ListFailedDeliveries(ctx, since)
	if err != nil {
		d.endSweep(start, false, nil, reason)
		return fmt.Errorf("redeliver failed webhooks: %w", err)
	}
	d.log.Debug().Str("reason", reason).Time("since", since).Int("failed", len(failed)).Msg("scanned webhook deliveries")
	var (
		errs     error
		sent     int
		leftover *gh.Delivery
	)
	// Oldest first: what is left over is then the newest part, and the
	// next scan's pages end where it begins.
	for i := len(failed) - 1; i >= 0; i-- {
		dl := failed[i]
		d.mu.Lock()
		done := d.redeliv[dl.GUID]
		d.mu.Unlock()
		if done || dl.Redelivery {
			continue
		}
		if sent >= d.opts.MaxRedeliveries {
			leftover = &failed[i]
			d.log.Info().Int("sent", sent).Msg("redelivery cap reached for this scan; the rest waits for the next")
			break
		}
		sent++
		if err := d.gh.Redeliver(ctx, dl.ID); err != nil {
			errs = errors.Join(errs, fmt.Errorf("redeliver %s (%s): %w", dl.GUID, dl.Event, err))
			if gh.IsPermanent(err) && gh.RetryAfter(err) == 0 {
				// Refused for good (the delivery is gone or too old):
				// asking again cannot help, so it counts as dealt with.
				d.rememberRedelivered(dl.GUID)
				continue
			}
			// Rate limited, GitHub unwell or our context ended: do not
			// spend more now, and start the next scan from here.
			leftover = &failed[i]
			break
		}
		d.rememberRedelivered(dl.GUID)
		d.metrics.Redelivered(dl.Event)
		d.log.Info().Str("delivery", dl.GUID).Str("event", dl.Event).Str("action", dl.Action).
			Time("delivered_at", dl.DeliveredAt).Msg("failed webhook delivery redelivered")
	}
	d.endSweep(start, true, leftover, reason)
	return errs
}

// sweepLoop scans for failed deliveries on its own timer, RedeliverInterval
// after the last scan began (whoever made it), so the promise of
// dispatcher.redeliver_interval holds whatever reconcile_interval is: with
// scans only inside reconciles, a 10m reconcile_interval left a failed
// workflow_job completed (a runner busy to us) for 10 minutes. A scan that
// could not list waits a full interval (GitHub is unwell; the next
// reconcile tries too), so a failing GitHub is not asked every second.
func (d *Dispatcher) sweepLoop(ctx context.Context) {
	t := time.NewTimer(d.nextSweepIn())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := d.opts.RedeliverInterval
		if err := d.redeliver(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Warn().Err(err).Msg("scheduled scan of failed webhook deliveries")
		} else {
			wait = d.nextSweepIn()
		}
		t.Reset(wait)
	}
}

// minSweepGap is sweepLoop's wait when a scan is due but another one (a
// reconcile's) is under way.
const minSweepGap = time.Second

// nextSweepIn is how long until the next scan is due: RedeliverInterval
// after the last one began. Before the first scan (the start-up reconcile
// makes it) it is a full interval.
func (d *Dispatcher) nextSweepIn() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sweep.lastScan.IsZero() {
		return d.opts.RedeliverInterval
	}
	if left := d.sweep.lastScan.Add(d.opts.RedeliverInterval).Sub(d.now()); left > 0 {
		return left
	}
	return minSweepGap // due, but a scan is under way
}

func (d *Dispatcher) rememberRedelivered(guid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.redeliv) >= maxRemembered {
		// GitHub keeps deliveries for days; the newest attempt of a GUID
		// we redelivered is itself a redelivery, which is skipped, so
		// forgetting old GUIDs cannot cause a second redelivery.
		clear(d.redeliv)
	}
	d.redeliv[guid] = true
}

// maxRemembered bounds the set of redelivered GUIDs kept in memory.
const maxRemembered = 10000
