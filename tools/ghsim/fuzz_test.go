package ghsim

import (
	"strings"
	"testing"
	"time"
)

func FuzzParseCreated(f *testing.F) {
	for _, seed := range []string{"", "2024-01-02", ">=2024-01-02", "<2024-01-02T10:00:00Z", "2024-01-01..2024-02-01", "*..2024-01-01", "2024-01-01..*", ">", "..", "2024-13-45"} {
		f.Add(seed)
	}
	probe := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		match, err := parseCreated(v)
		if err != nil {
			if match != nil {
				t.Fatalf("%q: error %v with a matcher", v, err)
			}
			return
		}
		match(probe) // must not panic
		if v == "" && !match(probe) {
			t.Fatal("empty filter must match everything")
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	for _, seed := range []string{"self-hosted", "a, b ,c", `["a","b"]`, `[1,2]`, "[", ",,,", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, l := range parseLabels(v) {
			if l == "" && !strings.HasPrefix(strings.TrimSpace(v), "[") {
				t.Fatalf("%q gave an empty label", v)
			}
		}
	})
}

func FuzzVerifyAppJWT(f *testing.F) {
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMDAxIn0.sig")
	f.Add("")
	s, err := New(Options{PrivateKey: sharedKeyF(f)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	f.Fuzz(func(t *testing.T, raw string) {
		if a, err := s.verifyAppJWT(raw); err == nil || a != nil {
			t.Fatalf("unsigned input %q accepted", raw)
		}
	})
}
