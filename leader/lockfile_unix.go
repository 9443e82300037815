//go:build unix

package leader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on the database file
// itself. The lock belongs to the file's inode, not to the path that named
// it: a second server reaching the same file through a symlink, a hard link
// or another mount of its folder is refused like one using the same path.
// flock belongs to the open file description, so the lock lives exactly as
// long as the returned file (the kernel drops it when the process dies, even
// on SIGKILL), and it does not touch SQLite's own locks, which are fcntl
// byte ranges. The holder's pid is written to "<real path>.lock", a hint
// for the refusal message only.
func lockFile(dbPath string) (*os.File, error) {
	if dir := filepath.Dir(dbPath); dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("leader: create the database folder %s: %w", dir, err)
			}
		}
	}
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("leader: open %s to lock it: %w", dbPath, err)
	}
	hint := dbPath + ".lock"
	if real, err := filepath.EvalSymlinks(dbPath); err == nil {
		hint = real + ".lock"
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another dispatchoor%s is using %s; SQLite serves one replica — use PostgreSQL for several: %w",
				readHolder(hint), dbPath, ErrAnotherReplica)
		}
		return nil, fmt.Errorf("leader: lock %s: %w", dbPath, err)
	}
	// The pid is only a hint for the refusal message; the flock decides.
	_ = os.WriteFile(hint, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return f, nil
}

func readHolder(hint string) string {
	b, err := os.ReadFile(hint)
	if err != nil || len(b) > 32 {
		return ""
	}
	pid := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return " (pid " + pid + ")"
}
