// Command dispatchoor is the whole product in one binary: the server, its
// database migrations, a config validator and a self-contained demo.
//
// It stays thin: parse flags, build the components, call into packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/logging"
)

const usage = `dispatchoor keeps self-hosted GitHub Actions runners busy.

Usage:
  dispatchoor <command> [flags]

Commands:
  server     run the GitHub App (webhooks, dispatcher, API, dashboard)
  migrate    apply database migrations and exit
  validate   check a config file and print every problem with file:line
  demo       run the whole product against the GitHub simulator
  healthcheck  ask a running server's /readyz (or --url) and exit 0 if healthy
  version    print the version, commit and build date

Common flags:
  --config FILE        config file (default ./config.yml)
  --log-level LEVEL    trace, debug, info, warn, error (default info)
  --log-format FORMAT  text or json (default text)

Run 'dispatchoor <command> --help' for a command's own flags.
`

// exitError carries a process exit code through the command functions.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "dispatchoor:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand. It is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitError{code: 2}
		}
		return nil
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"server":      runServer,
		"migrate":     runMigrate,
		"validate":    runValidate,
		"demo":        runDemo,
		"version":     runVersion,
		"healthcheck": runHealthcheck,
	}
	fn, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dispatchoor: unknown command %q\n\n%s", args[0], usage)
		return exitError{code: 2}
	}
	return fn(ctx, args[1:], stdout, stderr)
}

// common holds the flags every command accepts.
type common struct {
	config    string
	logLevel  string
	logFormat string
}

func newFlagSet(name string, stderr io.Writer, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.config, "config", "config.yml", "config file")
	fs.StringVar(&c.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	return fs
}

// parse parses args and turns flag errors into exit code 2.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{code: 2}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return exitError{code: 2}
	}
	return nil
}

func (c common) logger(stderr io.Writer) (zerolog.Logger, error) {
	return logging.New(stderr, c.logLevel, logging.Format(c.logFormat))
}
