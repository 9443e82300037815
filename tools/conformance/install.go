package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

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
	if ok, err := installed(dir); err != nil || ok {
		return err
	}
	unlock, err := lockInstall(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have finished the install while we waited.
	if ok, err := installed(dir); err != nil || ok {
		return err
	}
	return npmCI(ctx, dir)
}

func npmCI(ctx context.Context, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("install conformance corpora: `npm ci --no-audit --no-fund` in %s: %w\n%s", dir, err, out)
	}
	ok, err := installed(dir)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("install conformance corpora: npm ci in %s succeeded but node_modules does not match package-lock.json", dir)
	}
	return nil
}

type lockfile struct {
	Packages map[string]struct {
		Version   string `json:"version"`
		Integrity string `json:"integrity"`
	} `json:"packages"`
}

// installed reports whether node_modules holds exactly what package-lock.json
// pins. It compares against npm's hidden lockfile (node_modules/
// .package-lock.json), which npm writes only once an install has finished and
// which npm ci removes with the rest of node_modules; so an install made by
// `make` with plain npm ci counts, and a half-finished or outdated one does not.
func installed(dir string) (bool, error) {
	want, err := readLockfile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false, err
	}
	have, err := readLockfile(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		// Missing or damaged: either way a fresh npm ci is the cure.
		return false, nil
	}
	for path, p := range want.Packages {
		if path == "" {
			continue // the project itself
		}
		h, ok := have.Packages[path]
		if !ok || h.Version != p.Version || h.Integrity != p.Integrity {
			return false, nil
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path), "package.json")); err != nil {
			return false, nil
		}
	}
	return true, nil
}

func readLockfile(path string) (lockfile, error) {
	var l lockfile
	b, err := os.ReadFile(path)
	if err != nil {
		return l, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("decode %s: %w", path, err)
	}
	return l, nil
}

// lockPath lives in the temp dir, not in node_modules (npm ci deletes that
// while we hold the lock) nor in the source tree (it would show up in git).
func lockPath(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "dispatchoor-conformance-"+hex.EncodeToString(sum[:6])+".lock")
}
