package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func validConfig(dir string, listen string) string {
	return fmt.Sprintf(`server:
  listen: %q
  public_url: http://localhost:9090
database:
  driver: sqlite
  sqlite: { path: %q }
groups:
  github:
    - id: sync-tests
      name: Sync Tests
      runner_labels: [self-hosted, sync-test]
      workflow_dispatch_templates:
        - id: geth
          name: Geth
          owner: my-org
          repo: tests
          workflow_id: sync.yml
          ref: main
`, listen, filepath.Join(dir, "d.db"))
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	t.Run("a clean config prints ok and exits 0", func(t *testing.T) {
		cfg := writeFile(t, dir, "ok.yml", validConfig(dir, ":0"))
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"validate", "--config", cfg}, &out, &errOut)
		if err != nil {
			t.Fatalf("validate: %v\n%s", err, errOut.String())
		}
		if !strings.Contains(out.String(), "ok (1 groups, 1 templates)") {
			t.Fatalf("stdout %q", out.String())
		}
	})
	t.Run("five different mistakes are all printed with their lines and exit 1", func(t *testing.T) {
		cfg := writeFile(t, dir, "bad.yml", `server:
  listen: ":9090"
  colour: blue
dispatcher:
  interval: fifteen
auth:
  basic:
    users:
      - { username: admin, password: x, role: superuser }
groups:
  github:
    - id: g
      name: G
      runner_labels: []
      workflow_dispatch_templates:
        - { id: t, name: T, owner: o, workflow_id: w.yml, ref: main }
`)
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"validate", "--config", cfg}, &out, &errOut)
		if exitCode(err) != 1 {
			t.Fatalf("exit code %d (%v), want 1", exitCode(err), err)
		}
		text := errOut.String()
		for _, want := range []struct{ line, what string }{
			{"3", "colour"},
			{"5", "interval"},
			{"9", "role"},
			{"14", "runner_labels"},
			{"16", "repo"},
		} {
			re := regexp.MustCompile(regexp.QuoteMeta(cfg) + `:` + want.line + `:\d+: .*` + want.what)
			if !re.MatchString(text) {
				t.Errorf("no problem about %s on line %s in:\n%s", want.what, want.line, text)
			}
		}
		if !strings.Contains(text, "5 problem(s)") {
			t.Errorf("summary missing or wrong count:\n%s", text)
		}
	})
	t.Run("a missing file is an error", func(t *testing.T) {
		err := run(context.Background(), []string{"validate", "--config", filepath.Join(dir, "nope.yml")}, &bytes.Buffer{}, &bytes.Buffer{})
		if exitCode(err) != 1 {
			t.Fatalf("exit code %d", exitCode(err))
		}
	})
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no command prints usage and exits 2", nil, 2},
		{"unknown command exits 2", []string{"frobnicate"}, 2},
		{"unknown flag exits 2", []string{"version", "--colour"}, 2},
		{"stray argument exits 2", []string{"version", "extra"}, 2},
		{"help exits 0", []string{"help"}, 0},
		{"version exits 0", []string{"version"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
			if got := exitCode(err); got != tc.code {
				t.Fatalf("exit code %d (%v), want %d", got, err, tc.code)
			}
		})
	}
	t.Run("bad log level is refused by server", func(t *testing.T) {
		err := run(context.Background(), []string{"server", "--log-level", "loud"}, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "log level") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yml", validConfig(dir, ":0"))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--config", cfg}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`sqlite database at schema version (\d+) \(latest \d+\)`).MatchString(out.String()) {
		t.Fatalf("stdout %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "d.db")); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestServerServesHealthAndStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	srv := startTestServer(t, writeFile(t, dir, "c.yml", validConfig(dir, addr)), addr)
	if code := srv.health(); code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
	srv.stop()
}

// testServer is `dispatchoor server` running in this process.
type testServer struct {
	t      *testing.T
	addr   string
	cancel context.CancelFunc
	done   chan error
	// errOut is what it logged. The server logs from many goroutines; the
	// real stderr is an *os.File, safe for that, a bytes.Buffer is not.
	errOut *lockedBuffer
}

// startTestServer runs the server with the config file and waits until it
// answers on addr. No App in the config starts it in setup mode, which
// needs the key that will seal the App's credentials.
func startTestServer(t *testing.T, cfg, addr string) *testServer {
	t.Helper()
	t.Setenv("DISPATCHOOR_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &testServer{t: t, addr: addr, cancel: cancel, done: make(chan error, 1), errOut: &lockedBuffer{}}
	go func() {
		s.done <- run(ctx, []string{"server", "--config", cfg, "--log-format", "json"}, &bytes.Buffer{}, s.errOut)
	}()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("server stopped before answering: %v\n%s", err, s.errOut.String())
		case <-deadline.C:
			t.Fatalf("server never answered: %v\n%s", err, s.errOut.String())
		case <-time.After(50 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
}

func (s *testServer) health() int {
	resp, err := http.Get("http://" + s.addr + "/health")
	if err != nil {
		s.t.Fatalf("health: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stop cancels the server's context and waits for it to return cleanly.
func (s *testServer) stop() {
	s.t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("server returned %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatal("server did not stop after its context was cancelled")
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
