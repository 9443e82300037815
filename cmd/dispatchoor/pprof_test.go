package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerServesPprofOnItsOwnAddressOnly(t *testing.T) {
	dir := t.TempDir()
	addr, paddr := freePort(t), freePort(t)
	text := strings.Replace(validConfig(dir, addr), "server:\n", "server:\n  pprof_listen: \""+paddr+"\"\n", 1)
	srv := startTestServer(t, writeFile(t, dir, "c.yml", text), addr)

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline", "/debug/pprof/symbol"} {
		t.Run("pprof address serves "+path, func(t *testing.T) {
			if code, body := get(t, "http://"+paddr+path); code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
		})
	}
	t.Run("index lists the named profiles", func(t *testing.T) {
		_, body := get(t, "http://"+paddr+"/debug/pprof/")
		for _, name := range []string{"heap", "goroutine", "allocs", "profile", "trace"} {
			if !strings.Contains(body, name) {
				t.Fatalf("index does not list %s:\n%s", name, body)
			}
		}
	})
	t.Run("main listener does not serve profiles", func(t *testing.T) {
		// What each pprof answer holds: the index's heading, the heap
		// profile's, the process's command line.
		leaks := map[string]string{
			"/debug/pprof/":                  "Types of profiles available",
			"/debug/pprof/heap?debug=1":      "heap profile",
			"/debug/pprof/cmdline":           os.Args[0],
			"/debug/pprof/goroutine?debug=1": "goroutine profile",
		}
		for path, leak := range leaks {
			if _, body := get(t, "http://"+paddr+path); !strings.Contains(body, leak) {
				t.Fatalf("the probe is wrong: %s on the pprof address lacks %q", path, leak)
			}
			if code, body := get(t, "http://"+addr+path); strings.Contains(body, leak) {
				t.Fatalf("%s on the main listener: %d %s", path, code, body)
			}
		}
	})
	if !strings.Contains(srv.errOut.String(), `"component":"pprof"`) {
		t.Fatalf("no pprof log line:\n%s", srv.errOut.String())
	}

	srv.stop()
	if c, err := net.DialTimeout("tcp", paddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("pprof port %s still open after the server stopped", paddr)
	}
}

func TestPprofWarnsOffLoopback(t *testing.T) {
	cases := []struct {
		name string
		addr string
		warn bool
	}{
		{"ipv4 loopback is quiet", "127.0.0.1:0", false},
		{"localhost is quiet", "localhost:0", false},
		{"every interface warns", ":0", true},
		{"an unspecified address warns", "0.0.0.0:0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			p, err := startPprof(tc.addr, zerolog.New(&logs))
			if err != nil {
				t.Fatal(err)
			}
			p.shutdown()
			warned := strings.Contains(logs.String(), `"level":"warn"`)
			if warned != tc.warn {
				t.Fatalf("warned %v, want %v:\n%s", warned, tc.warn, logs.String())
			}
			if !strings.Contains(logs.String(), `"component":"pprof"`) {
				t.Fatalf("log lines lack component pprof:\n%s", logs.String())
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true, "127.1.2.3:6060": true,
		":6060": false, "0.0.0.0:6060": false, "10.0.0.5:6060": false, "example.com:6060": false, "nonsense": false,
	}
	for addr, want := range cases {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
