//go:build unix

package conformance

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockInstall takes an exclusive flock on the install lock file. flock is
// released by the kernel when a holder dies, so a crashed test run never
// leaves a stale lock behind. It polls with LOCK_NB so a cancelled test stops
// waiting.
func lockInstall(ctx context.Context, dir string) (unlock func(), err error) {
	path := lockPath(dir)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open install lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another process installing the conformance corpora (%s): %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
