package conformance

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docExamples returns the response examples GitHub publishes in a REST
// description (components.examples), so tests start from GitHub's own
// documented bodies rather than hand-written ones.
func docExamples(t *testing.T, spec Spec) map[string]json.RawMessage {
	t.Helper()
	file := filepath.Join(Dir(t), "node_modules", "@octokit", "openapi", "generated", string(spec)+".json")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	var doc struct {
		Components struct {
			Examples map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"examples"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	out := make(map[string]json.RawMessage, len(doc.Components.Examples))
	for name, ex := range doc.Components.Examples {
		out[name] = ex.Value
	}
	return out
}

// edit decodes a JSON object, applies change and re-encodes it.
func edit(t *testing.T, body []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode body to edit: %v", err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encode edited body: %v", err)
	}
	return out
}

// wantRefused asserts err is a *Mismatch with a problem containing want.
func wantRefused(t *testing.T, err error, want string) {
	t.Helper()
	var mm *Mismatch
	if !errors.As(err, &mm) {
		t.Fatalf("want a *Mismatch mentioning %q, got %v", want, err)
	}
	for _, p := range mm.Problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Fatalf("no problem mentions %q: %v", want, mm.Problems)
}
