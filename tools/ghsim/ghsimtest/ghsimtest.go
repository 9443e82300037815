// Package ghsimtest serves the GitHub simulator over net/http/httptest for
// the length of a test. It lives apart from ghsim so that the testing and
// httptest packages never reach the dispatchoor binary, which links ghsim
// for `dispatchoor demo` (docs/ARCHITECTURE.md, "Tooling").
//
// Only _test.go files import it.
package ghsimtest

import (
	"net/http/httptest"
	"testing"

	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// Serve serves s on an httptest server and points the URLs in its payloads
// at it; the caller closes the server (before closing s).
func Serve(s *ghsim.Sim) *httptest.Server {
	srv := httptest.NewServer(s.Handler())
	s.SetBaseURL(srv.URL)
	return srv
}

// New builds a simulator served over httptest for the length of a test;
// both are closed by t.Cleanup.
func New(t testing.TB, opts ghsim.Options) *ghsim.Sim {
	t.Helper()
	s, err := ghsim.New(opts)
	if err != nil {
		t.Fatalf("ghsim: %v", err)
	}
	srv := Serve(s)
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return s
}
