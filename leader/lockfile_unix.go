//go:build unix

package leader

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on "<db>.lock". flock
// belongs to the open file description, so the lock lives exactly as long
// as the returned file (the kernel drops it when the process dies, even on
// SIGKILL) and a second open of the same file — even in this process — is
// refused. The file is never removed: unlinking it would let a newcomer lock
// a fresh inode while the old holder still runs.
func lockFile(dbPath string) (*os.File, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("leader: open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another dispatchoor%s is using %s; SQLite serves one replica — use PostgreSQL for several (lock file %s): %w",
				holder, dbPath, path, ErrAnotherReplica)
		}
		return nil, fmt.Errorf("leader: lock %s: %w", path, err)
	}
	// The pid is only a hint for the refusal message; the flock decides.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid := strings.TrimSpace(string(b[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return " (pid " + pid + ")"
}
