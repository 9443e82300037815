package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// stampName is written into node_modules after a successful `npm ci` and holds
// the hash of the package-lock.json it installed; npm ci wipes node_modules
// first, so a stale or half-finished install never carries a matching stamp.
const stampName = ".dispatchoor-lock-sha256"

// installTimeout bounds a cold `npm ci`; the corpora are ~400 MB unpacked.
const installTimeout = 15 * time.Minute

// Dir returns the Node project folder (internal/conformance/node) with its
// node_modules installed, running `npm ci` first when they are missing or
// were installed from a different package-lock.json. Parallel test processes
// (go test runs packages concurrently) serialise on a lock file so only one
// of them installs. It fails the test, never skips it, when Node or npm is
// missing or the install fails.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := nodeDir()
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	if err := ensureInstalled(t.Context(), dir); err != nil {
		t.Fatalf("conformance: %v", err)
	}
	return dir
}

// nodeDir finds node/ next to this source file. Tests always run from a
// source tree, so the path compiled in by runtime.Caller is reliable unless
// someone builds tests with -trimpath.
func nodeDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("locate conformance sources: runtime.Caller failed")
	}
	dir := filepath.Join(filepath.Dir(file), "node")
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err != nil {
		return "", fmt.Errorf("locate conformance node project (tests built with -trimpath?): %w", err)
	}
	return dir, nil
}

func ensureInstalled(ctx context.Context, dir string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found in PATH: the conformance checks need Node.js >= 20 with npm "+
				"to install GitHub's API and webhook descriptions (%w)", tool, err)
		}
	}
	want, err := lockHash(dir)
	if err != nil {
		return err
	}
	if installedHash(dir) == want {
		return nil
	}
	unlock, err := lockInstall(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have finished the install while we waited.
	if installedHash(dir) == want {
		return nil
	}
	return npmCI(ctx, dir, want)
}

func npmCI(ctx context.Context, dir, hash string) error {
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("install conformance corpora: `npm ci --no-audit --no-fund` in %s: %w\n%s", dir, err, out)
	}
	stamp := filepath.Join(dir, "node_modules", stampName)
	if err := os.WriteFile(stamp, []byte(hash+"\n"), 0o644); err != nil {
		return fmt.Errorf("record conformance install: %w", err)
	}
	return nil
}

func lockHash(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", fmt.Errorf("read conformance package-lock.json: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// installedHash returns the lock hash of the current install, or "" if there
// is none.
func installedHash(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", stampName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// lockPath lives in the temp dir, not in node_modules (npm ci deletes that
// while we hold the lock) nor in the source tree (it would show up in git).
func lockPath(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "dispatchoor-conformance-"+hex.EncodeToString(sum[:6])+".lock")
}
