package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
)

// NewHTTPServer wraps h in an http.Server with every timeout and limit set.
// Without them a client sending a byte every few seconds holds a
// connection (and a goroutine, and shutdown) for as long as it likes.
// WebSocket upgrades clear the server's deadlines on the hijacked
// connection and keep their own (the hub's ping/pong), so Read and Write do
// not cut live sockets.
func NewHTTPServer(h http.Handler, t config.Timeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
	}
}

// ShutdownHTTP stops accepting, lets in-flight requests finish for at most
// grace, then closes every connection still open: SIGTERM never waits on a
// slow client longer than grace.
func ShutdownHTTP(ctx context.Context, srv *http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		if cerr := srv.Close(); cerr != nil && !errors.Is(cerr, http.ErrServerClosed) {
			return fmt.Errorf("close connections after %s: %w", grace, cerr)
		}
		return nil
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
