package leader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// errNotAcquired: another session holds the lock.
var errNotAcquired = errors.New("lock held by another replica")

// pgConn is the dedicated lock connection. It is a pq.ListenerConn rather
// than a *sql.Conn because a ListenerConn keeps a goroutine reading the
// socket at all times: when the server ends the session (the backend is
// terminated, the server restarts, idle_session_timeout fires) its FATAL
// message or EOF closes notes at once, instead of being noticed at the next
// query. The server writes that FATAL before its exit releases the lock,
// so the leader normally learns of the loss before a follower can win.
type pgConn struct {
	cn    *pq.ListenerConn
	notes chan *pq.Notification // closed by pq when the connection is gone
}

// dial opens the connection within timeout and prepares its session.
func dial(ctx context.Context, dsn string, timeout time.Duration) (*pgConn, error) {
	type result struct {
		cn  *pq.ListenerConn
		err error
	}
	notes := make(chan *pq.Notification, 8)
	out := make(chan result, 1)
	go func() {
		cn, err := pq.NewListenerConn(dsn, notes)
		out <- result{cn, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	abandon := func() {
		// pq.NewListenerConn takes no context; close whatever it returns later.
		go func() {
			if r := <-out; r.cn != nil {
				_ = r.cn.Close()
			}
		}()
	}
	select {
	case r := <-out:
		if r.err != nil {
			return nil, fmt.Errorf("connect to postgres: %w", r.err)
		}
		return &pgConn{cn: r.cn, notes: notes}, nil
	case <-t.C:
		abandon()
		return nil, fmt.Errorf("connect to postgres: no answer within %s", timeout)
	case <-ctx.Done():
		abandon()
		return nil, ctx.Err()
	}
}

// exec runs a simple query and waits at most timeout (0: no limit). A
// server error comes back as *pq.Error; a timeout closes the connection,
// because the protocol state of an abandoned query is unknown.
func (c *pgConn) exec(q string, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		executed, err := c.cn.ExecSimpleQuery(q)
		if !executed && err == nil {
			err = errors.New("query not executed")
		}
		errc <- err
	}()
	if timeout <= 0 {
		return <-errc
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-errc:
		return err
	case <-t.C:
		c.close()
		return fmt.Errorf("no answer within %s", timeout)
	}
}

// prepare sets the session up so that the server itself ends it when this
// replica falls silent. idle_session_timeout (PostgreSQL 14+) is what makes
// the lease strict (see postgres.go).
func (c *pgConn) prepare(opts Options) (strict bool, err error) {
	ms := opts.SessionTimeout.Milliseconds()
	if err := c.exec("SET application_name = 'dispatchoor-leader'", opts.ConnectTimeout); err != nil {
		return false, fmt.Errorf("set application_name: %w", err)
	}
	err = c.exec(fmt.Sprintf("SET idle_session_timeout = %d", ms), opts.ConnectTimeout)
	var pqErr *pq.Error
	switch {
	case err == nil:
		strict = true
	case errors.As(err, &pqErr):
		// 42704: before PostgreSQL 14 the setting does not exist.
		strict = false
	default:
		return false, fmt.Errorf("set idle_session_timeout: %w", err)
	}
	// tcp_user_timeout ends the session when a reply stays unacknowledged
	// for SessionTimeout; any reply answers a query sent after the last
	// successful check, so this too cannot free the lock before the lease
	// ends. (Keepalive probes are left alone: they count from the last
	// traffic and could fire earlier.)
	for _, q := range []string{
		fmt.Sprintf("SET tcp_user_timeout = %d", ms),
		fmt.Sprintf("SET statement_timeout = %d", opts.LeaseTimeout.Milliseconds()),
	} {
		if err := c.exec(q, opts.ConnectTimeout); err != nil && !errors.As(err, &pqErr) {
			return strict, fmt.Errorf("%s: %w", q, err)
		}
	}
	return strict, nil
}

// tryLock makes one attempt. ListenerConn returns no rows, so the result of
// pg_try_advisory_lock is turned into an error the server sends back:
// lock_not_available (55P03) means another session holds the lock.
func (c *pgConn) tryLock(key int64, timeout time.Duration) error {
	q := fmt.Sprintf(`DO $$ BEGIN IF NOT pg_try_advisory_lock(%d) THEN `+
		`RAISE EXCEPTION USING ERRCODE = 'lock_not_available', MESSAGE = 'dispatchoor leader lock is held'; `+
		`END IF; END $$`, key)
	err := c.exec(q, timeout)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "55P03" {
		return errNotAcquired
	}
	return err
}

// unlock releases the lock explicitly; closing the connection would too,
// but the explicit unlock frees it even if the close is slow to reach the
// server.
func (c *pgConn) unlock(key int64, timeout time.Duration) error {
	return c.exec(fmt.Sprintf("SELECT pg_advisory_unlock(%d)", key), timeout)
}

// dead reports, without blocking, whether the connection is gone.
func (c *pgConn) dead() bool {
	select {
	case _, ok := <-c.notes:
		return !ok
	default:
		return false
	}
}

func (c *pgConn) close() { _ = c.cn.Close() }
