//go:build !unix

package conformance

import (
	"context"
	"fmt"
)

// lockInstall has no portable implementation outside unix; install the
// corpora beforehand (`npm ci` in dir) and Dir never needs the lock.
func lockInstall(_ context.Context, dir string) (func(), error) {
	return nil, fmt.Errorf("installing the conformance corpora needs flock; run `npm ci --no-audit --no-fund` in %s first", dir)
}
