// Package storetest runs a test against every supported database: a fresh
// SQLite file, and a fresh database on the PostgreSQL that the test script
// started (DISPATCHOOR_TEST_POSTGRES_DSN). When DISPATCHOOR_TEST_REQUIRE_POSTGRES
// is set (make test sets it) a missing PostgreSQL fails the test instead of
// skipping it, so CI can never pass on SQLite alone.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/ethpandaops/dispatchoor/store"
)

// EnvDSN names the PostgreSQL server the tests may create databases on.
const EnvDSN = "DISPATCHOOR_TEST_POSTGRES_DSN"

// EnvRequire makes a missing PostgreSQL a failure.
const EnvRequire = "DISPATCHOOR_TEST_REQUIRE_POSTGRES"

var announce sync.Once

// Each runs fn as subtests "sqlite" and "postgres", each with its own fresh,
// migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a fresh migrated SQLite store in a temporary folder.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		Driver:     store.DriverSQLite,
		SQLitePath: filepath.Join(t.TempDir(), "test.db"),
		Migrate:    true,
	})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Postgres creates a fresh database on the test server and opens a migrated
// store on it. The database is dropped when the test ends.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	s, err := store.Open(context.Background(), store.Options{
		Driver: store.DriverPostgres, PostgresDSN: dsn, Migrate: true,
	})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// PostgresDSN creates a fresh, empty database on the test server and returns
// its DSN; tests that need several connections (replicas) open it themselves.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%s is set but %s is empty: PostgreSQL was not started", EnvRequire, EnvDSN)
		}
		t.Skipf("postgres: %s not set (make test starts a PostgreSQL and sets it)", EnvDSN)
	}
	announce.Do(func() { t.Logf("store tests are running against PostgreSQL at %s", redact(base)) })
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("postgres admin: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		a, err := sqlx.Open("postgres", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDSN, err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable dsn)"
	}
	return u.Redacted()
}
