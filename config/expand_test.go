package config

import (
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := env(map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": "", "NESTED": "${A}", "_U": "u"})
	tests := []struct {
		name    string
		in      string
		want    string
		missing []string
	}{
		{"plain text untouched", "hello", "hello", nil},
		{"whole value", "${A}", "alpha", nil},
		{"inside text", "x-${A}-${B_2}-y", "x-alpha-beta-y", nil},
		{"underscore start", "${_U}", "u", nil},
		{"set but empty is allowed", "[${EMPTY}]", "[]", nil},
		{"double dollar writes a literal", "$${A}", "${A}", nil},
		{"double dollar then real ref", "$${A}${A}", "${A}alpha", nil},
		{"bcrypt hash passes", "$2a$10$N9qo8uLOickgx2ZMRZoMye", "$2a$10$N9qo8uLOickgx2ZMRZoMye", nil},
		{"bare dollar name not expanded", "$A and $", "$A and $", nil},
		{"github expression passes", "${{ github.sha }}", "${{ github.sha }}", nil},
		{"shell default syntax passes", "${A:-x}", "${A:-x}", nil},
		{"digit first is not a name", "${1A}", "${1A}", nil},
		{"empty braces pass", "${}", "${}", nil},
		{"unterminated passes", "${A", "${A", nil},
		{"values are not expanded again", "${NESTED}", "${A}", nil},
		{"unset is reported", "p=${NOPE}", "p=${NOPE}", []string{"NOPE"}},
		{"each unset is reported", "${X}${A}${Y}", "${X}alpha${Y}", []string{"X", "Y"}},
		{"triple dollar", "$$${A}", "$${A}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, missing := Expand(tt.in, vars)
			if got != tt.want || !slices.Equal(missing, tt.missing) {
				t.Fatalf("Expand(%q) = %q, %v; want %q, %v", tt.in, got, missing, tt.want, tt.missing)
			}
		})
	}
}

func TestExpandNilLookupReportsEverything(t *testing.T) {
	_, missing := Expand("${HOME}", nil)
	if !slices.Equal(missing, []string{"HOME"}) {
		t.Fatalf("nil lookup must mean an empty environment, got missing=%v", missing)
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "${A}", "$${A}", "$2a$10$abc", "${{x}}", "$$$", "${A", "${_}", "a${B}c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		calls := 0
		lookup := func(name string) (string, bool) {
			calls++
			if name == "" {
				t.Fatalf("looked up an empty name in %q", s)
			}
			return "<" + name + ">", name[0] != 'Z'
		}
		out, missing := Expand(s, lookup)
		if !strings.Contains(s, "${") && out != s {
			t.Fatalf("text without ${ changed: %q -> %q", s, out)
		}
		if calls < len(missing) {
			t.Fatalf("reported %d missing names after %d lookups", len(missing), calls)
		}
		// Expanding the same text twice gives the same answer: no state.
		out2, missing2 := Expand(s, lookup)
		if out != out2 || !slices.Equal(missing, missing2) {
			t.Fatalf("Expand is not deterministic for %q", s)
		}
	})
}
