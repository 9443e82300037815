//go:build !unix

package leader

import (
	"errors"
	"os"
)

// lockFile: without flock there is no lock that dies with its process, so
// refuse rather than risk two replicas on one SQLite file.
func lockFile(string) (*os.File, error) {
	return nil, errors.New("leader: SQLite single-replica lock needs a Unix system; use PostgreSQL here")
}
