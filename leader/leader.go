package leader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/clock"
	"github.com/ethpandaops/dispatchoor/config"
)

// DefaultLockKey is the advisory lock key when Options.LockKey is 0: the
// ASCII bytes of "dispatch", unlikely to collide with another application's
// keys on a shared database.
const DefaultLockKey int64 = 0x6469737061746368

// ErrAnotherReplica: the SQLite database is already used by another
// dispatchoor process.
var ErrAnotherReplica = errors.New("database is used by another dispatchoor")

// Options configure a Leader. Driver and the matching DSN or SQLitePath are
// required; every duration has a default that keeps a takeover under 5 s.
type Options struct {
	// Driver is config.DriverSQLite or config.DriverPostgres.
	Driver string
	// DSN is the lib/pq connection string (postgres).
	DSN string
	// SQLitePath is the database file (sqlite); its inode is locked.
	SQLitePath string
	// LockKey is the advisory lock key; 0 means DefaultLockKey. Replicas of
	// one installation must share it.
	LockKey int64
	Logger  zerolog.Logger
	// ReplicaID names this replica in logs; default "<hostname>-<pid>".
	ReplicaID string

	// RetryInterval is how often a follower tries the lock; default 1s.
	// A dead leader's lock is taken over within this long.
	RetryInterval time.Duration
	// HealthInterval is how often the leader checks its connection;
	// default 1s.
	HealthInterval time.Duration
	// LeaseTimeout: the leader steps down when no check sent within the
	// last LeaseTimeout has succeeded; default 2s.
	LeaseTimeout time.Duration
	// SessionTimeout is the server-side idle_session_timeout of the lock
	// connection: a session silent this long is ended by PostgreSQL, which
	// frees the lock of a leader cut off by the network. It must exceed
	// LeaseTimeout; default 3s. A follower takes over from a cut-off
	// leader within SessionTimeout + RetryInterval.
	SessionTimeout time.Duration
	// ConnectTimeout bounds connecting and each lock attempt; default 3s.
	ConnectTimeout time.Duration

	// OnChange, if set, is called when this replica starts (true) or stops
	// (false) leading. It runs on Run's goroutine and must not block.
	OnChange func(leading bool)
}

// Leader runs a function only while this replica leads. Build it with New;
// IsLeader and LeaderSince are safe from any goroutine.
type Leader struct {
	opts    Options
	log     zerolog.Logger
	running atomic.Bool

	mu    sync.Mutex
	since time.Time // zero while following

	file *os.File // the SQLite lock file, held from New to Close
}

// New validates o and, on SQLite, takes the database's lock file at once so
// that a second process fails before it serves anything.
func New(opts Options) (*Leader, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.RetryInterval, time.Second)
	def(&opts.HealthInterval, time.Second)
	def(&opts.LeaseTimeout, 2*time.Second)
	def(&opts.SessionTimeout, 3*time.Second)
	def(&opts.ConnectTimeout, 3*time.Second)
	if opts.LockKey == 0 {
		opts.LockKey = DefaultLockKey
	}
	if opts.ReplicaID == "" {
		host, _ := os.Hostname()
		opts.ReplicaID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	l := &Leader{opts: opts}
	l.log = opts.Logger.With().Str("component", "leader").Str("replica", opts.ReplicaID).Logger()
	switch opts.Driver {
	case config.DriverPostgres:
		if opts.DSN == "" {
			return nil, errors.New("leader: a PostgreSQL DSN is required")
		}
		if opts.HealthInterval >= opts.LeaseTimeout {
			return nil, fmt.Errorf("leader: health interval %s must be shorter than the lease %s", opts.HealthInterval, opts.LeaseTimeout)
		}
		if opts.LeaseTimeout >= opts.SessionTimeout {
			return nil, fmt.Errorf("leader: lease %s must be shorter than the session timeout %s, or a cut-off leader could outlive its lock", opts.LeaseTimeout, opts.SessionTimeout)
		}
	case config.DriverSQLite:
		if opts.SQLitePath == "" {
			return nil, errors.New("leader: the SQLite path is required")
		}
		abs, err := filepath.Abs(opts.SQLitePath)
		if err != nil {
			return nil, fmt.Errorf("leader: resolve %s: %w", opts.SQLitePath, err)
		}
		f, err := lockFile(abs)
		if err != nil {
			return nil, err
		}
		l.file = f
	default:
		return nil, fmt.Errorf("leader: unknown driver %q (want sqlite or postgres)", opts.Driver)
	}
	return l, nil
}

// Run competes for leadership until ctx ends and calls fn with a context
// that is cancelled the moment leadership is lost or in doubt. fn must
// return promptly once its context ends: on PostgreSQL the lock is released
// only after fn has returned. fn may be called again after a later win; if
// it returns on its own while leading, leadership is handed back and
// contested again after RetryInterval. Run returns nil when ctx ends, after
// releasing the lock.
func (l *Leader) Run(ctx context.Context, fn func(leaderCtx context.Context)) error {
	if fn == nil {
		return errors.New("leader: Run needs a function")
	}
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("leader: Run is already running")
	}
	defer l.running.Store(false)
	if l.opts.Driver == config.DriverSQLite {
		return l.runSQLite(ctx, fn)
	}
	return l.runPostgres(ctx, fn)
}

// IsLeader reports whether this replica leads right now.
func (l *Leader) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.since.IsZero()
}

// LeaderSince is when this replica became leader; zero while following.
func (l *Leader) LeaderSince() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.since
}

// ReplicaID names this replica.
func (l *Leader) ReplicaID() string { return l.opts.ReplicaID }

// Close releases the SQLite lock file; on PostgreSQL it does nothing (Run
// releases the lock when its context ends).
func (l *Leader) Close() error {
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	if err != nil {
		return fmt.Errorf("leader: release lock file: %w", err)
	}
	return nil
}

// setLeading records the change before anyone can observe the leader
// context, so IsLeader is already false when a cancelled fn looks.
func (l *Leader) setLeading(leading bool, why string) {
	l.mu.Lock()
	if leading {
		l.since = time.Now()
	} else {
		l.since = time.Time{}
	}
	l.mu.Unlock()
	if leading {
		l.log.Info().Msg("became leader")
	} else {
		l.log.Warn().Str("reason", why).Msg("stopped leading")
	}
	if l.opts.OnChange != nil {
		l.opts.OnChange(leading)
	}
}

// runSQLite: the lock file was taken by New, so this replica is the only one
// and leads from the start.
func (l *Leader) runSQLite(ctx context.Context, fn func(context.Context)) error {
	if l.file == nil {
		return errors.New("leader: closed")
	}
	l.setLeading(true, "")
	defer l.setLeading(false, "shutdown")
	for {
		fn(ctx)
		if ctx.Err() != nil {
			return nil
		}
		l.log.Warn().Dur("retry", l.opts.RetryInterval).Msg("leader function returned early; restarting it")
		if clock.Sleep(ctx, l.opts.RetryInterval) != nil {
			return nil
		}
	}
}
