package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ddlTokens are the only places where the two dialects' schemas differ. The
// migrations are written once with these tokens and rendered per driver.
var ddlTokens = map[Driver]*strings.Replacer{
	DriverSQLite: strings.NewReplacer(
		"{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{TIME}}", "TIMESTAMP",
		"{{BLOB}}", "BLOB",
		"{{FLOAT}}", "REAL",
	),
	DriverPostgres: strings.NewReplacer(
		"{{ID}}", "BIGSERIAL PRIMARY KEY",
		"{{TIME}}", "TIMESTAMPTZ",
		"{{BLOB}}", "BYTEA",
		"{{FLOAT}}", "DOUBLE PRECISION",
	),
}

// renderedMigrations returns the embedded migrations with the dialect's
// tokens substituted.
func renderedMigrations(d Driver) (fs.FS, error) {
	r, ok := ddlTokens[d]
	if !ok {
		return nil, fmt.Errorf("no migrations for driver %q", d)
	}
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out[e.Name()] = &fstest.MapFile{Data: []byte(r.Replace(string(b)))}
	}
	return out, nil
}

func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := renderedMigrations(s.driver)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	if s.driver == DriverPostgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and returns the schema version.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate %s: %w", s.driver, err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion reports the applied version and the newest one embedded.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	for _, src := range p.ListSources() {
		latest = max(latest, src.Version)
	}
	return current, latest, nil
}
