package store

import (
	"strings"
	"testing"

	"github.com/lib/pq"
)

// TestPostgresDSNTurnsOnBinaryParameters checks what lib/pq itself makes of
// the rewritten DSN, so the proof does not depend on how we spell it.
func TestPostgresDSNTurnsOnBinaryParameters(t *testing.T) {
	t.Setenv("PGPASSWORD", "") // lib/pq reads PG* variables; keep them out
	for _, tc := range []struct {
		name       string
		dsn        string
		wantBinary bool
		wantHost   string
		wantPass   string
		wantDB     string
		wantSSL    string
	}{
		{name: "url without query gets it", dsn: "postgres://app@db.internal:5432/dispatchoor",
			wantBinary: true, wantHost: "db.internal", wantDB: "dispatchoor"},
		{name: "url with query keeps sslmode and gets it", dsn: "postgres://app@db:5432/dispatchoor?sslmode=disable",
			wantBinary: true, wantHost: "db", wantDB: "dispatchoor", wantSSL: "disable"},
		{name: "postgresql scheme gets it", dsn: "postgresql://app@db/dispatchoor?sslmode=require",
			wantBinary: true, wantHost: "db", wantDB: "dispatchoor", wantSSL: "require"},
		{name: "url built from config parts keeps an escaped password", dsn: "postgres://app:p%40ss%2Fw@db:6543/dispatchoor?sslmode=verify-full",
			wantBinary: true, wantHost: "db", wantPass: "p@ss/w", wantDB: "dispatchoor", wantSSL: "verify-full"},
		{name: "url with a fragment gets it in the query", dsn: "postgres://app@db/dispatchoor?sslmode=disable#primary",
			wantBinary: true, wantHost: "db", wantDB: "dispatchoor", wantSSL: "disable"},
		{name: "url that says no stays no", dsn: "postgres://app@db/dispatchoor?binary_parameters=no&sslmode=disable",
			wantBinary: false, wantHost: "db", wantDB: "dispatchoor", wantSSL: "disable"},
		{name: "url that says yes is left alone", dsn: "postgres://app@db/dispatchoor?binary_parameters=yes",
			wantBinary: true, wantHost: "db", wantDB: "dispatchoor"},
		{name: "key=value gets it", dsn: "host=db port=5432 user=app dbname=dispatchoor sslmode=disable",
			wantBinary: true, wantHost: "db", wantDB: "dispatchoor", wantSSL: "disable"},
		{name: "key=value that says no stays no", dsn: "host=db dbname=dispatchoor binary_parameters=no",
			wantBinary: false, wantHost: "db", wantDB: "dispatchoor"},
		{name: "key=value with the option's name inside a quoted password", dsn: "host=db dbname=dispatchoor password='binary_parameters=no x'",
			wantBinary: true, wantHost: "db", wantPass: "binary_parameters=no x", wantDB: "dispatchoor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := postgresDSN(tc.dsn)
			cfg, err := pq.NewConfig(got)
			if err != nil {
				t.Fatalf("lib/pq refuses the rewritten DSN %q: %v", got, err)
			}
			if cfg.BinaryParameters != tc.wantBinary {
				t.Errorf("binary_parameters = %t, want %t (DSN %q)", cfg.BinaryParameters, tc.wantBinary, got)
			}
			if cfg.Host != tc.wantHost || cfg.Password != tc.wantPass || cfg.Database != tc.wantDB {
				t.Errorf("host/password/dbname = %q/%q/%q, want %q/%q/%q (DSN %q)",
					cfg.Host, cfg.Password, cfg.Database, tc.wantHost, tc.wantPass, tc.wantDB, got)
			}
			if tc.wantSSL != "" && string(cfg.SSLMode) != tc.wantSSL {
				t.Errorf("sslmode = %q, want %q (DSN %q)", cfg.SSLMode, tc.wantSSL, got)
			}
		})
	}
}

// FuzzPostgresDSN: whatever lib/pq accepts, it still accepts after the
// rewrite, with the same connection target, and binary_parameters is on
// unless the DSN turned it off itself.
func FuzzPostgresDSN(f *testing.F) {
	for _, s := range []string{
		"postgres://app@db:5432/dispatchoor?sslmode=disable",
		"postgresql://app:p%40ss@db/dispatchoor#x",
		"postgres://db/dispatchoor?binary_parameters=no",
		"host=db dbname=dispatchoor sslmode=disable",
		"host=db password='a b\\' binary_parameters=no' dbname=x",
		"host=db binary_parameters=no",
		"postgres://[::1]:5432/db?",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		before, err := pq.NewConfig(dsn)
		if err != nil {
			return // lib/pq reports it on connect; the rewrite need not fix it
		}
		got := postgresDSN(dsn)
		after, err := pq.NewConfig(got)
		if err != nil {
			t.Fatalf("lib/pq accepts %q but not its rewrite %q: %v", dsn, got, err)
		}
		if before.Host != after.Host || before.Port != after.Port || before.User != after.User ||
			before.Password != after.Password || before.Database != after.Database || before.SSLMode != after.SSLMode {
			t.Fatalf("rewrite %q of %q changed the target: %+v -> %+v", got, dsn, before, after)
		}
		if before.BinaryParameters && !after.BinaryParameters {
			t.Fatalf("rewrite %q turned binary_parameters off", got)
		}
		if !after.BinaryParameters && !strings.Contains(dsn, "binary_parameters") {
			t.Fatalf("rewrite %q of %q left binary_parameters off", got, dsn)
		}
	})
}
