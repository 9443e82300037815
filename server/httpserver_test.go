package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
)

func serveWith(t *testing.T, h http.Handler, to config.Timeouts) (*http.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(h, to)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, ln.Addr().String()
}

// trickle dials addr, writes a first byte of a request, then one more
// byte every tick, and reports how long the server kept the connection.
func trickle(t *testing.T, addr, first string, tick time.Duration, limit time.Duration) time.Duration {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, first); err != nil {
		t.Fatal(err)
	}
	for time.Since(start) < limit {
		_ = c.SetReadDeadline(time.Now().Add(tick))
		var b [512]byte
		if _, err := c.Read(b[:]); err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				return time.Since(start) // closed (or answered and closed)
			}
		}
		if _, err := io.WriteString(c, "x"); err != nil {
			return time.Since(start)
		}
	}
	return time.Since(start)
}

func TestSlowClientsAreCutOff(t *testing.T) {
	to := config.Default().Server.Timeouts
	to.ReadHeader, to.Read = 300*time.Millisecond, 600*time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})
	_, addr := serveWith(t, h, to)

	t.Run("headers sent a byte at a time", func(t *testing.T) {
		var wg sync.WaitGroup
		held := make([]time.Duration, 30)
		for i := range held {
			wg.Go(func() {
				held[i] = trickle(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", 50*time.Millisecond, 5*time.Second)
			})
		}
		wg.Wait()
		for _, d := range held {
			if d > 2*time.Second {
				t.Fatalf("a header trickle held its connection %s (read_header 300ms)", d)
			}
		}
	})
	t.Run("a body sent a byte at a time", func(t *testing.T) {
		d := trickle(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 50*time.Millisecond, 5*time.Second)
		if d > 2*time.Second {
			t.Fatalf("a body trickle held its connection %s (read 600ms)", d)
		}
	})
	t.Run("oversized headers are refused", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 200<<10)+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}

func TestShutdownIsBounded(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	entered := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-stuck
	})
	srv, addr := serveWith(t, h, config.Default().Server.Timeouts)
	go func() { _, _ = http.Get("http://" + addr + "/") }()
	<-entered
	start := time.Now()
	if err := ShutdownHTTP(context.Background(), srv, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %s with a grace of 200ms", d)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
}
