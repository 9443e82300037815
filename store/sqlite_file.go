package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// prepareSQLiteFile makes sure the database file exists with mode 0600
// before SQLite opens it, in a folder created 0700 when missing. SQLite
// would create it 0644 (less the umask), and its -wal and -shm files copy
// the database file's mode, so this one file decides who else can read the
// sessions, audit log and sealed App credentials. An existing file readable
// by others is narrowed to 0600; an existing folder is left alone (it may be
// a mounted volume whose mode its owner chose).
func prepareSQLiteFile(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create the database folder %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create the database file %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat the database file %s: %w", path, err)
	}
	if st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("narrow the database file %s to mode 0600: %w", path, err)
		}
	}
	return nil
}
