package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/rs/zerolog"
)

// pprofServer serves Go's runtime profiles (server.pprof_listen) on an
// address of its own, never on the main listener: profiles carry no
// authentication and expose the command line and memory contents.
type pprofServer struct {
	srv    *http.Server
	ln     net.Listener
	served chan struct{}
	log    zerolog.Logger
}

// pprofMux registers the handlers on a mux of our own. Importing
// net/http/pprof also registers them on http.DefaultServeMux, which nothing
// here ever serves.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	// Index also serves every named profile (heap, goroutine, allocs,
	// block, mutex, threadcreate) under /debug/pprof/<name>.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// isLoopback reports whether a host:port listens on loopback only. An empty
// host (":6060") listens on every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startPprof listens on addr and serves the profiles until shutdown.
func startPprof(addr string, log zerolog.Logger) (*pprofServer, error) {
	log = log.With().Str("component", "pprof").Logger()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen %s: %w", addr, err)
	}
	// No WriteTimeout: /debug/pprof/profile and /trace answer after the
	// seconds asked for, and refuse a request longer than the timeout.
	p := &pprofServer{
		srv: &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second},
		ln:  ln, served: make(chan struct{}), log: log,
	}
	if !isLoopback(addr) {
		log.Warn().Str("listen", ln.Addr().String()).
			Msg("pprof is served without authentication on a non-loopback address: anyone who reaches it can read memory profiles and the command line")
	}
	go func() {
		defer close(p.served)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("pprof server stopped")
		}
	}()
	log.Info().Str("listen", ln.Addr().String()).Msg("serving pprof profiles at /debug/pprof/")
	return p, nil
}

// Addr is the address the profiles are served on.
func (p *pprofServer) Addr() string { return p.ln.Addr().String() }

// shutdown stops the server, giving a profile being taken a few seconds to
// finish before its connection is closed.
func (p *pprofServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		_ = p.srv.Close()
	}
	<-p.served
	p.log.Info().Msg("pprof stopped")
}
