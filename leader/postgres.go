package leader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Why the leader stops before a follower can start.
//
// The lock is released only when the server ends the leader's session.
// The ways that happens, and how the leader learns first:
//
//   - The leader's process dies: nothing is left to dispatch. The kernel
//     closes the socket, the backend exits at once, a follower wins within
//     RetryInterval.
//   - The session is ended by the server (pg_terminate_backend, a restart,
//     idle_session_timeout): the backend writes a FATAL message to the
//     socket before its exit releases the lock. The connection's reader
//     goroutine sees it within network latency and Run cancels the leader
//     context on that signal. A follower needs the release and then its own
//     round trip, at a moment set by its retry schedule, so the leader
//     practically always cancels first — but both run concurrently and this
//     case is not a strict guarantee.
//   - The network between leader and server fails silently, or the leader
//     cannot get answers: this is the case a strict order is possible for,
//     and the lease gives it. Let s be the moment the leader sent its last
//     check that succeeded. The server finished that check after s, so its
//     idle_session_timeout cannot end the session (and free the lock)
//     before s + SessionTimeout. The leader steps down at s + LeaseTimeout
//     at the latest, and LeaseTimeout < SessionTimeout (New enforces it);
//     the gap (1 s by default) absorbs timer lateness on the leader.
//     A follower then leads within SessionTimeout + RetryInterval (4 s).
//
// What no lock can exclude: a leader process frozen (SIGSTOP, a VM pause)
// past its lease wakes up with work in flight before its watchdog runs.
// That is why the store's conditional transitions, not this lock, are what
// make a double dispatch impossible: a second claim of a job finds it no
// longer pending and fails with store.ErrConflict.

var (
	errShutdown      = errors.New("shutting down")
	errLeaseExpired  = errors.New("lease expired: no successful health check in time")
	errFnReturned    = errors.New("leader function returned")
	errNoIdleTimeout = errors.New("idle_session_timeout unsupported")
)

// runPostgres is the follower loop: keep a dedicated connection, try the
// lock every RetryInterval, and lead while it is held.
func (l *Leader) runPostgres(ctx context.Context, fn func(context.Context)) error {
	var c *pgConn
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	failing := false
	report := func(err error, what string) {
		if ctx.Err() != nil {
			return
		}
		ev := l.log.Debug()
		if !failing {
			ev = l.log.Warn()
		}
		ev.Err(err).Msg(what)
		failing = true
	}
	warnedStrict, following := false, false
	for ctx.Err() == nil {
		if c != nil && c.dead() {
			c.close()
			c = nil
		}
		if c == nil {
			var err error
			if c, err = dial(ctx, l.opts.DSN, l.opts.ConnectTimeout); err != nil {
				report(err, "leader election: connect")
				l.wait(ctx, nil)
				continue
			}
			strict, err := c.prepare(l.opts)
			if err != nil {
				report(err, "leader election: prepare session")
				c.close()
				c = nil
				l.wait(ctx, nil)
				continue
			}
			if !strict && !warnedStrict {
				warnedStrict = true
				l.log.Warn().Err(errNoIdleTimeout).Msg("PostgreSQL before 14: a leader cut off by the network keeps its lock until TCP gives up; double dispatch is still prevented by the store")
			}
		}
		sent := time.Now()
		err := c.tryLock(l.opts.LockKey, l.opts.ConnectTimeout)
		switch {
		case errors.Is(err, errNotAcquired):
			if failing || !following {
				l.log.Info().Msg("following: another replica holds the leader lock")
				failing, following = false, true
			}
			l.wait(ctx, c)
			continue
		case err != nil:
			report(err, "leader election: try lock")
			c.close()
			c = nil
			l.wait(ctx, nil)
			continue
		}
		failing, following = false, false
		why := l.lead(ctx, c, sent, fn)
		c = nil // lead closed it
		if !errors.Is(why, errShutdown) {
			// A replica that just lost its connection, or whose work
			// gave up, is the least likely to be healthy: sit out two
			// rounds so a follower (which retries every round) takes over.
			l.wait(ctx, nil)
			l.wait(ctx, nil)
		}
	}
	return nil
}

// wait sleeps RetryInterval, ending early when ctx ends or c dies. No
// LISTEN is ever issued on c, so anything on c.notes is its closing.
func (l *Leader) wait(ctx context.Context, c *pgConn) {
	t := time.NewTimer(l.opts.RetryInterval)
	defer t.Stop()
	var notes chan *pq.Notification
	if c != nil {
		notes = c.notes
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-notes:
	}
}

type check struct {
	sent time.Time
	err  error
}

// lead runs fn while the lock on c is held and returns why it stopped. It
// always closes c, and returns only after fn has returned, so the lock is
// never released while fn still runs, and a later win never runs two fns.
func (l *Leader) lead(ctx context.Context, c *pgConn, sent time.Time, fn func(context.Context)) error {
	leaderCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	l.setLeading(true, "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(leaderCtx)
	}()

	lease := time.NewTimer(time.Until(sent.Add(l.opts.LeaseTimeout)))
	defer lease.Stop()
	health := time.NewTicker(l.opts.HealthInterval)
	defer health.Stop()
	checks := make(chan check, 1)
	inflight := false
	var why error
	for why == nil {
		select {
		case <-ctx.Done():
			why = errShutdown
		case _, ok := <-c.notes:
			if !ok {
				why = fmt.Errorf("lock connection lost: %w", c.cn.Err())
			}
		case <-lease.C:
			why = errLeaseExpired
		case <-done:
			why = errFnReturned
		case <-health.C:
			if !inflight {
				inflight = true
				at := time.Now()
				// No timeout here: the lease timer is the deadline.
				go func() { checks <- check{at, c.exec("SELECT 1", 0)} }()
			}
		case r := <-checks:
			inflight = false
			if r.err != nil {
				why = fmt.Errorf("health check failed: %w", r.err)
				break
			}
			lease.Reset(time.Until(r.sent.Add(l.opts.LeaseTimeout)))
		}
	}

	// Step down first, then clean up: the leader context must be cancelled
	// before anything that could let another replica take the lock.
	l.setLeading(false, why.Error())
	cancel(why)
	<-done
	if errors.Is(why, errShutdown) || errors.Is(why, errFnReturned) {
		if err := c.unlock(l.opts.LockKey, l.opts.ConnectTimeout); err != nil {
			l.log.Warn().Err(err).Msg("release leader lock; closing the connection releases it too")
		} else {
			l.log.Info().Msg("released leader lock")
		}
	}
	c.close()
	return why
}
