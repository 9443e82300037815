package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// env is what every scenario gets: the binary, a scratch folder, the mode.
type env struct {
	Bin      string
	Dir      string
	Short    bool
	Postgres bool
	Seed     uint64
}

// result is one scenario's part of the report and the targets it checked.
type result struct {
	Key     string // the scenario's name: its block in the report
	Title   string
	Body    []string // markdown lines
	Targets []target
}

type target struct {
	Name, Want, Got string
	Met             bool
}

func (r *result) line(format string, args ...any) {
	r.Body = append(r.Body, fmt.Sprintf(format, args...))
}

func (r *result) check(name, want, got string, met bool) {
	r.Targets = append(r.Targets, target{Name: name, Want: want, Got: got, Met: met})
}

type scenario struct {
	Name string
	Run  func(ctx context.Context, e env) (result, error)
}

var scenarios = []scenario{
	{"reaction", runReaction},
	{"fleet", runFleet}, // also reports scenario 3 (API economy)
	{"ingest", runIngest},
	{"queue", runQueueScale},
	{"profile", runProfile},
	{"burst", runBurst},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	which := flag.String("scenario", "all", "all, or a comma-separated list of: reaction, fleet, ingest, queue, profile, burst")
	short := flag.Bool("short", false, "small counts and high speed: minutes, for make bench")
	out := flag.String("out", "docs/BENCHMARKS.md", "report to update (its generated block); empty prints only")
	pg := flag.Bool("postgres", true, "also measure on a private PostgreSQL (scripts/pg.sh)")
	bin := flag.String("bin", "", "dispatchoor binary; built from ./cmd/dispatchoor when empty")
	seed := flag.Uint64("seed", 1, "seed of every simulated draw")
	floor := registerFloorFlags(flag.CommandLine)
	flag.Parse()
	if floor.serve {
		return serveFloor(floor)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "dispatchoor-bench-")
	if err != nil {
		return fmt.Errorf("scratch folder: %w", err)
	}
	defer os.RemoveAll(dir)
	e := env{Bin: *bin, Dir: dir, Short: *short, Postgres: *pg, Seed: *seed}
	if e.Bin == "" {
		e.Bin = filepath.Join(dir, "dispatchoor")
		fmt.Fprintln(os.Stderr, "bench: building ./cmd/dispatchoor")
		build := exec.CommandContext(ctx, "go", "build", "-o", e.Bin, "./cmd/dispatchoor")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build ./cmd/dispatchoor: %w", err)
		}
	}

	var results []result
	var errs error
	for _, s := range scenarios {
		if *which != "all" && !contains(strings.Split(*which, ","), s.Name) {
			continue
		}
		start := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s ...\n", s.Name)
		r, err := s.Run(ctx, e)
		r.Key = s.Name
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("scenario %s: %w", s.Name, err))
			r.line("**Scenario failed:** `%v`", err)
		}
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", s.Name, time.Since(start).Round(time.Second))
		for _, l := range r.Body {
			fmt.Println(l)
		}
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	if *out != "" && len(results) > 0 {
		cmdline := "go run ./tools/bench " + strings.Join(os.Args[1:], " ")
		if err := writeReport(*out, cmdline, e, results); err != nil {
			errs = errors.Join(errs, err)
		}
	}
	return errs
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if strings.TrimSpace(v) == x {
			return true
		}
	}
	return false
}
