package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/tools/demo"
)

// runDemo runs the whole product against the GitHub simulator on SQLite in
// a temporary folder: no GitHub account, nothing to configure.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("demo", stderr, &c)
	listen := fs.String("listen", "127.0.0.1:9090", "address the dashboard and API listen on")
	seed := fs.Uint64("seed", 1, "seed of every simulated draw (durations, conclusions)")
	speed := fs.Float64("speed", 6, "simulated seconds per real second")
	feed := fs.Bool("feed", true, "keep jobs flowing into the queues")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dispatchoor-demo-")
	if err != nil {
		return fmt.Errorf("demo folder: %w", err)
	}
	defer os.RemoveAll(dir)

	addr, err := resolveAddr(*listen)
	if err != nil {
		return err
	}
	simAddr, err := resolveAddr("127.0.0.1:0")
	if err != nil {
		return err
	}
	world, err := demo.NewWorld(demo.Options{Seed: *seed, Speed: *speed, Logger: log})
	if err != nil {
		return err
	}
	defer world.Close()
	world.Sim.SetBaseURL("http://" + simAddr)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simErr := make(chan error, 1)
	go func() { simErr <- world.Serve(ctx, simAddr) }()

	publicURL := "http://" + addr
	creds := demo.NewCredentials()
	cfg, err := world.Config(ctx, demo.ConfigOptions{Dir: dir, Listen: addr, PublicURL: publicURL, Creds: creds})
	if err != nil {
		return err
	}
	world.Sim.SetWebhookURL(publicURL + "/api/github/hook")

	fmt.Fprintf(stdout, `
dispatchoor demo — the whole product against a simulated GitHub

  dashboard   %s
  admin       %s / %s
  readonly    %s / %s
  simulator   %s  (organization %q, %d runners, jobs run %gx faster)
  data        %s (removed on exit)

Jobs are queued continuously; "maintainer" also posts /dispatch comments.
Press Ctrl-C to stop.

`, publicURL, creds.AdminUser, creds.AdminPassword, creds.ViewerUser, creds.ViewerPassword,
		world.Sim.BaseURL(), demo.Org, len(world.Sim.Runners()), *speed, dir)

	var wg sync.WaitGroup
	defer wg.Wait()
	ready := func(a *app) {
		if !*feed {
			return
		}
		wg.Go(func() {
			world.Feed(ctx, demo.FeedOptions{Queue: a.q, Counter: a.st, Logger: log, CommentEvery: 45 * time.Second})
		})
	}
	err = serve(ctx, cfg, config.NewLoadOptions(), log, addr, ready)
	cancel()
	select {
	case e := <-simErr:
		if err == nil && e != nil && ctx.Err() == nil {
			err = e
		}
	case <-time.After(5 * time.Second):
	}
	return err
}

// resolveAddr turns a ":0" port into a concrete free one, so the URL can be
// printed and written into the config before anything listens.
func resolveAddr(addr string) (string, error) {
	if !strings.HasSuffix(addr, ":0") {
		return addr, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("find a free port for %s: %w", addr, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
