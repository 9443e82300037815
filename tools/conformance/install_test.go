package conformance

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDirIsInstalledFromTheCommittedLock(t *testing.T) {
	dir := Dir(t)
	ok, err := installed(dir)
	if err != nil || !ok {
		t.Fatalf("node_modules does not match package-lock.json after Dir: ok=%v err=%v", ok, err)
	}
	for _, f := range []string{
		"@octokit/openapi/generated/api.github.com.json",
		"@octokit/openapi/generated/ghes-3.19.json",
		"@octokit/webhooks-schemas/schema.json",
		"@octokit/webhooks-examples/api.github.com/index.json",
	} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", f)); err != nil {
			t.Errorf("corpus missing: %v", err)
		}
	}
}

func TestInstalledComparesWithNpmsHiddenLockfile(t *testing.T) {
	const lock = `{"packages":{"":{"name":"x"},"node_modules/ajv":{"version":"8.20.0","integrity":"sha512-a"}}}`
	cases := []struct {
		name   string
		hidden string // "" means no hidden lockfile
		pkgDir bool
		want   bool
	}{
		{"matching install counts", `{"packages":{"node_modules/ajv":{"version":"8.20.0","integrity":"sha512-a"}}}`, true, true},
		{"no hidden lockfile means not installed", "", true, false},
		{"other version means not installed", `{"packages":{"node_modules/ajv":{"version":"8.19.0","integrity":"sha512-a"}}}`, true, false},
		{"other integrity means not installed", `{"packages":{"node_modules/ajv":{"version":"8.20.0","integrity":"sha512-b"}}}`, true, false},
		{"missing package folder means not installed", `{"packages":{"node_modules/ajv":{"version":"8.20.0","integrity":"sha512-a"}}}`, false, false},
		{"damaged hidden lockfile means not installed", `{"packages":`, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "package-lock.json"), lock)
			if tc.hidden != "" {
				write(t, filepath.Join(dir, "node_modules", ".package-lock.json"), tc.hidden)
			}
			if tc.pkgDir {
				write(t, filepath.Join(dir, "node_modules", "ajv", "package.json"), `{}`)
			}
			got, err := installed(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("installed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInstallLockSerialisesInstallers(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { os.Remove(lockPath(dir)) })
	unlock, err := lockInstall(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockInstall(ctx, dir); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second installer got the lock while the first held it: %v", err)
	}
	unlock()
	unlock2, err := lockInstall(t.Context(), dir)
	if err != nil {
		t.Fatalf("lock not free after unlock: %v", err)
	}
	unlock2()
}

func TestNpmFailureIsReportedWithItsOutput(t *testing.T) {
	dir := t.TempDir() // no package.json: npm ci refuses at once, offline
	err := npmCI(t.Context(), dir)
	if err == nil {
		t.Fatal("npm ci in an empty folder succeeded")
	}
	if !strings.Contains(err.Error(), "npm ci --no-audit --no-fund") || !strings.Contains(err.Error(), "npm error") {
		t.Fatalf("error does not carry npm's output: %v", err)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
