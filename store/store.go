package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"           // PostgreSQL driver "postgres"
	_ "github.com/mattn/go-sqlite3" // SQLite driver "sqlite3"
)

// Driver names a supported database.
type Driver string

const (
	DriverSQLite   Driver = "sqlite"
	DriverPostgres Driver = "postgres"
)

// Sentinel errors for decisions callers make.
var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a conditional update found the row in another state than
	// it expected; someone else changed it first.
	ErrConflict = errors.New("conflict: row changed concurrently")
	// ErrDuplicate: a unique key (e.g. a webhook delivery id) already exists.
	ErrDuplicate = errors.New("duplicate")
	// ErrInvalid: an argument the caller passed is malformed (a cursor, a
	// filter, a bucket size, a runner listing). The API answers 400.
	ErrInvalid = errors.New("invalid argument")
)

// Options says which database to open.
type Options struct {
	Driver Driver
	// SQLitePath is a file path; ":memory:" is refused because every pooled
	// connection would see its own empty database.
	SQLitePath string
	// PostgresDSN is a lib/pq connection string or URL. Open turns on
	// lib/pq's binary_parameters unless the DSN sets it (see postgresDSN).
	PostgresDSN string
	// Migrate applies pending migrations on open.
	Migrate bool
}

// Store is the database. Safe for concurrent use.
//
// Data methods are written once, on *Q, which runs them on whatever it is
// bound to: Store embeds a Q bound to the pool, and InTx hands fn a Q bound to
// a transaction, so a webhook can apply several changes atomically with the
// very same methods.
type Store struct {
	*Q
	db     *sqlx.DB
	driver Driver
}

// Q runs the store's data methods on the pool or on one transaction.
type Q struct {
	x      queryer
	driver Driver
	// clock is the store's one time source; read it through now().
	clock func() time.Time
	inTx  bool
}

// Open connects, checks the connection and, if asked, migrates.
func Open(ctx context.Context, opts Options) (*Store, error) {
	var (
		db  *sqlx.DB
		err error
	)
	switch opts.Driver {
	case DriverSQLite:
		if opts.SQLitePath == "" || strings.HasPrefix(opts.SQLitePath, ":memory:") {
			return nil, fmt.Errorf("open sqlite: a file path is required, got %q", opts.SQLitePath)
		}
		if err := prepareSQLiteFile(opts.SQLitePath); err != nil {
			return nil, err
		}
		db, err = sqlx.Open("sqlite3", sqliteDSN(opts.SQLitePath))
		if err == nil {
			// One writer at a time is SQLite's rule; a single connection
			// avoids SQLITE_BUSY between our own goroutines entirely and is
			// faster than contending on the file lock.
			db.SetMaxOpenConns(1)
		}
	case DriverPostgres:
		if opts.PostgresDSN == "" {
			return nil, errors.New("open postgres: dsn is empty")
		}
		db, err = sqlx.Open("postgres", postgresDSN(opts.PostgresDSN))
		if err == nil {
			// As many idle connections as open ones: database/sql closes
			// a returned connection when the idle pool is full, so a
			// burst of more concurrent webhooks than idle slots made
			// PostgreSQL fork a new backend (and warm its catalog cache)
			// for a large share of deliveries. Idle ones still close
			// after ConnMaxIdleTime.
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("open store: unknown driver %q (want sqlite or postgres)", opts.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Driver, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect %s: %w", opts.Driver, err)
	}
	s := &Store{db: db, driver: opts.Driver}
	s.Q = &Q{x: db, driver: opts.Driver, clock: func() time.Time { return time.Now().UTC() }}
	if opts.Migrate {
		if _, err := s.Migrate(ctx); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return s, nil
}

// sqliteDSN turns a path into a go-sqlite3 DSN: WAL for concurrent readers,
// a busy timeout instead of immediate SQLITE_BUSY, foreign keys enforced, and
// immediate transactions so a read-then-write transaction cannot deadlock.
// synchronous=NORMAL is WAL's usual setting: a commit survives a crash of the
// process, only an OS crash or power loss can lose the last commits, and
// commits do not fsync (checkpoints do).
//
// The driver's statement cache keeps each query prepared on the connection:
// the store runs the same few dozen statements over and over on its single
// connection, and preparing each anew took about 40% of the CPU of the
// in-process ingest benchmark (handlers.BenchmarkWorkflowJobIngest). Cached
// statements are reset and unbound before reuse, only single statements are
// cached, and SQLite re-prepares one by itself after a schema change, so
// behaviour is unchanged.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	q.Set("_loc", "UTC")
	q.Set("_stmt_cache_size", "128")
	return "file:" + path + "?" + q.Encode()
}

// postgresDSN turns on lib/pq's binary_parameters unless dsn already says
// yes or no. Without it lib/pq sends every statement with arguments as
// Parse/Describe, waits for the parameter types, then Bind/Execute: two round
// trips, and a webhook delivery runs several such statements inside its
// transaction. With it, one round trip. The only thing it changes on the wire
// is that []byte arguments travel in binary format: ours go to BYTEA
// (secrets) or TEXT, both of which take raw bytes; JSON lives in TEXT columns
// written from strings, never JSONB, whose binary form would need a version
// byte. Everything else is sent as text as before.
//
// A key=value DSN gets the option in front, because lib/pq lets a later key
// win: an explicit binary_parameters=no in the DSN still turns it off. A URL
// gets it in its query unless the query names it already.
func postgresDSN(dsn string) string {
	const opt = "binary_parameters"
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return opt + "=yes " + dsn
	}
	base, frag, hasFrag := strings.Cut(dsn, "#")
	u, err := url.Parse(base)
	if err != nil {
		// lib/pq parses it again and reports the error on connect.
		return dsn
	}
	if u.Query().Has(opt) {
		return dsn
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	base += sep + opt + "=yes"
	if hasFrag {
		base += "#" + frag
	}
	return base
}

// Driver reports which database this is.
func (s *Store) Driver() Driver { return s.driver }

// DB exposes the handle for packages that need driver-specific features
// (the PostgreSQL leader lock and LISTEN/NOTIFY).
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database is reachable (for /health and /status).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// SetClock replaces the store's clock; tests use it to make timestamps exact.
func (s *Store) SetClock(now func() time.Time) { s.Q.clock = now }

// rebind turns a "?" query into the driver's placeholders.
func (q *Q) rebind(query string) string { return sqlx.Rebind(sqlx.BindType(q.driverName()), query) }

func (q *Q) driverName() string {
	if q.driver == DriverPostgres {
		return "postgres"
	}
	return "sqlite3"
}

// queryer is what both *sqlx.DB and *sqlx.Tx offer, so helpers can run
// inside or outside a transaction.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// InTx runs fn in one transaction, committing if it returns nil and rolling
// back otherwise. fn must use only the Q it is given: on SQLite the pool has
// a single connection, so touching the Store inside fn would wait forever.
func (s *Store) InTx(ctx context.Context, fn func(q *Q) error) error { return s.Q.atomic(ctx, fn) }

// notFound maps sql.ErrNoRows to ErrNotFound, wrapping with what was looked up.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

var _ queryer = (*sqlx.DB)(nil)
var _ queryer = (*sqlx.Tx)(nil)
