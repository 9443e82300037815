package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
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
	load := config.NewLoadOptions()
	cfg, err := config.Load(ctx, c.config, load)
	if err != nil {
		return fmt.Errorf("config %s:\n%w", c.config, err)
	}
	return serve(ctx, cfg, load, log, cfg.Server.Listen, nil)
}

// serve builds the app and runs it on addr; when setup mode stores the App's
// credentials, it builds the app anew, now with them, on the same address.
// ready, when set, is called with each app built, before it serves.
func serve(ctx context.Context, cfg *config.Config, load config.LoadOptions, log zerolog.Logger, addr string, ready func(*app)) error {
	// Profiles are served across a setup restart: they describe the
	// process, not one build of the app.
	if cfg.Server.PprofListen != "" {
		p, err := startPprof(cfg.Server.PprofListen, log)
		if err != nil {
			return err
		}
		defer p.shutdown()
	}
	for {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		// A restart must come back where browsers already point, even
		// when the first listen picked a free port.
		addr = ln.Addr().String()
		a, err := newApp(ctx, cfg, load, log)
		if err != nil {
			ln.Close()
			return err
		}
		if ready != nil {
			ready(a)
		}
		err = a.run(ctx, ln)
		a.close()
		if !errors.Is(err, errReconfigured) {
			return err
		}
		log.Info().Str("component", "main").Msg("GitHub App configured through setup: restarting with its credentials")
	}
}
