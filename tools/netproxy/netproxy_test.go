package netproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo serves one line back per line received.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				s := bufio.NewScanner(c)
				for s.Scan() {
					_, _ = c.Write(append(s.Bytes(), '\n'))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxyForwardsAndFreezes(t *testing.T) {
	p := New(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string, wait time.Duration) (string, error) {
		_ = c.SetDeadline(time.Now().Add(wait))
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}
	if got, err := roundTrip("one", 2*time.Second); err != nil || got != "one\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}
	p.Freeze()
	if got, err := roundTrip("two", 200*time.Millisecond); err == nil {
		t.Fatalf("a frozen proxy let %q through", got)
	}
	p.Thaw()
	if got, err := roundTrip("", 2*time.Second); err != nil || got != "two\n" {
		t.Fatalf("after thaw the held bytes should arrive: %q, %v", got, err)
	}
}
