//go:build unix

package leader

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethpandaops/dispatchoor/config"
)

// The lock follows the database file, not the string that names it: a
// second server reaching the same file another way is refused.
func TestSQLiteLockFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "d.db")
	first, err := New(Options{Driver: config.DriverSQLite, SQLitePath: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	if fi, err := os.Stat(filepath.Dir(db)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("database folder: %v %v, want created 0700", fi.Mode().Perm(), err)
	}

	linkedFile := filepath.Join(dir, "via-symlink.db")
	if err := os.Symlink(db, linkedFile); err != nil {
		t.Fatal(err)
	}
	linkedDir := filepath.Join(dir, "linked-data")
	if err := os.Symlink(filepath.Dir(db), linkedDir); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.db")
	if err := os.Link(db, hard); err != nil {
		t.Fatal(err)
	}
	relative, err := filepath.Rel(mustGetwd(t), db)
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"a symlink to the file":   linkedFile,
		"a symlink to its folder": filepath.Join(linkedDir, "d.db"),
		"a hard link":             hard,
		"a path with ..":          filepath.Join(dir, "data", "..", "data", "d.db"),
		"a relative path":         relative,
	} {
		t.Run(name, func(t *testing.T) {
			l, err := New(Options{Driver: config.DriverSQLite, SQLitePath: path})
			if err == nil {
				_ = l.Close()
				t.Fatalf("a second server through %s was allowed", path)
			}
			if !errors.Is(err, ErrAnotherReplica) {
				t.Fatalf("New = %v, want ErrAnotherReplica", err)
			}
		})
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := New(Options{Driver: config.DriverSQLite, SQLitePath: linkedFile})
	if err != nil {
		t.Fatalf("through the symlink after the first closed: %v", err)
	}
	_ = second.Close()
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
