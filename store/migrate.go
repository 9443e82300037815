package store

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"strings"

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
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	return renderedFS{src: sub, r: r}, nil
}

// renderedFS serves src with every file's text passed through r. It exists
// so the product does not link testing/fstest for an in-memory file system.
type renderedFS struct {
	src fs.FS
	r   *strings.Replacer
}

func (f renderedFS) Open(name string) (fs.File, error) {
	file, err := f.src.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := file.Stat()
	if err != nil || info.IsDir() {
		return file, err
	}
	defer file.Close()
	b, err := io.ReadAll(file)
	if err != nil {
		return nil, fmt.Errorf("read migration %s: %w", name, err)
	}
	text := f.r.Replace(string(b))
	return &renderedFile{Reader: strings.NewReader(text), info: renderedInfo{FileInfo: info, size: int64(len(text))}}, nil
}

// ReadDir lets fs.Glob list the directory without opening every file.
func (f renderedFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.src, name) }

type renderedFile struct {
	*strings.Reader
	info renderedInfo
}

func (f *renderedFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *renderedFile) Close() error               { return nil }

// renderedInfo reports the rendered size instead of the template's.
type renderedInfo struct {
	fs.FileInfo
	size int64
}

func (i renderedInfo) Size() int64 { return i.size }

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
