package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// env returns a LookupEnv over a fixed map.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// writeFiles lays files out under a temp dir and returns it. Content is
// dedented by its leading tab-free YAML as written in the test.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadFiles writes files and loads dir/config.yml.
func loadFiles(t *testing.T, files map[string]string, opts LoadOptions) (*Config, Problems, string) {
	t.Helper()
	dir := writeFiles(t, files)
	cfg, err := Load(context.Background(), filepath.Join(dir, "config.yml"), opts)
	if err == nil {
		return cfg, nil, dir
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load returned a non-Problems error: %v", err)
	}
	if cfg != nil {
		t.Fatalf("Load returned a config together with problems")
	}
	return nil, ps, dir
}

// mustLoad fails the test unless the files load cleanly.
func mustLoad(t *testing.T, files map[string]string, opts LoadOptions) *Config {
	t.Helper()
	cfg, ps, _ := loadFiles(t, files, opts)
	if ps != nil {
		t.Fatalf("unexpected problems:\n%v", ps)
	}
	return cfg
}

// validGroup is a group that needs nothing else, for cases that test
// something beside it.
const validGroup = `
groups:
  github:
    - id: g1
      runner_labels: [self-hosted]
      workflow_dispatch_templates:
        - { id: t1, owner: org, repo: r, workflow_id: ci.yml }
`

func hasProblem(ps Problems, file string, line int, msg string) bool {
	for _, p := range ps {
		if filepath.Base(p.File) == file && p.Line == line && strings.Contains(p.Msg, msg) {
			return true
		}
	}
	return false
}
