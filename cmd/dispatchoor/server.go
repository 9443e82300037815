package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/server"
)

// runServer runs the App until the context is cancelled (SIGINT/SIGTERM).
func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("server", stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := config.Load(ctx, c.config, config.NewLoadOptions())
	if err != nil {
		return fmt.Errorf("config %s:\n%w", c.config, err)
	}
	st, err := openStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer st.Close()
	groups, templates := cfg.Groups()
	sync, err := st.SyncConfig(ctx, groups, templates)
	if err != nil {
		return fmt.Errorf("sync groups and templates from config: %w", err)
	}
	log.Info().Str("component", "main").Interface("sync", sync).Msg("groups and templates synced from config")

	srv := server.New(server.Options{Logger: log, Store: st, Version: buildVersion()})
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Server.Listen, err)
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	log.Info().Str("component", "main").Str("listen", ln.Addr().String()).Str("public_url", cfg.Server.PublicURL).Msg("serving")
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Str("component", "main").Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
