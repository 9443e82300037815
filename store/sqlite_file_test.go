package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
)

// The database and its WAL hold sessions, the audit log and sealed App
// credentials: nobody but the server's user may read them, whatever the
// umask says.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	open := func(t *testing.T, path string) {
		t.Helper()
		st, err := store.Open(context.Background(), store.Options{Driver: store.DriverSQLite, SQLitePath: path, Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		// A write makes SQLite create the -wal and -shm files.
		if _, err := st.AppendAudit(context.Background(), store.AuditEntry{Actor: "t", Action: "test"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
	}
	mode := func(t *testing.T, p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}

	t.Run("a new database in a new folder", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "sub")
		path := filepath.Join(dir, "dispatchoor.db")
		open(t, path)
		if m := mode(t, dir); m != 0o700 {
			t.Errorf("folder mode %v, want 0700", m)
		}
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			if m := mode(t, f); m != 0o600 {
				t.Errorf("%s mode %v, want 0600", filepath.Base(f), m)
			}
		}
	})
	t.Run("an existing world-readable database is narrowed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		open(t, path)
		for _, f := range []string{path, path + "-wal"} {
			if m := mode(t, f); m != 0o600 {
				t.Errorf("%s mode %v, want 0600", filepath.Base(f), m)
			}
		}
	})
}
