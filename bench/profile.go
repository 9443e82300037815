package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runProfile records the server's CPU with Linux perf while it runs
// scenario 2 (dispatchoor's variant, short size). perf rather than pprof:
// the binary exposes no pprof endpoint or profile flag, and the benchmark
// must measure the binary as shipped. Go keeps frame pointers, so perf's
// call graphs name Go functions as pprof would.
func runProfile(ctx context.Context, e env) (result, error) {
	r := result{Title: "6. CPU profile of scenario 2 (server process)"}
	if _, err := exec.LookPath("perf"); err != nil {
		r.line("Skipped: `perf` is not installed (Debian package `linux-perf`).")
		return r, nil
	}
	data := filepath.Join(e.Dir, "fleet.perf.data")
	v := variant{Name: "dispatchoor (profiled)", Webhooks: true, Interval: 15 * time.Second, Reconcile: 5 * time.Minute,
		StartTimeout: 30 * time.Minute, Profile: data}
	if _, err := fleetOn(ctx, e, v, 500, 20, time.Minute); err != nil {
		return r, err
	}
	self, err := perfTop(ctx, data, "--no-children", "", 15)
	if err != nil {
		return r, err
	}
	cum, err := perfTop(ctx, data, "--children", "ethpandaops", 30)
	if err != nil {
		return r, err
	}
	r.line("`perf record -F 499 -g` on the server while scenario 2 ran (500 jobs, 50 runners, Speed 20, SQLite).")
	r.line("")
	r.line("Top functions by own CPU:")
	r.line("")
	r.line("```")
	r.Body = append(r.Body, self...)
	r.line("```")
	r.line("")
	r.line("Top project functions by CPU including callees:")
	r.line("")
	r.line("```")
	r.Body = append(r.Body, cum...)
	r.line("```")
	return r, nil
}

// startPerf records pid's CPU into path until the returned stop is called.
func startPerf(ctx context.Context, pid int, path string) (func(), error) {
	cmd := exec.CommandContext(ctx, "perf", "record", "-F", "499", "-g", "-p", fmt.Sprint(pid), "-o", path)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start perf: %w", err)
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}, nil
}

// perfTop is perf report's first n entries, optionally only those whose
// symbol contains filter.
func perfTop(ctx context.Context, path, mode, filter string, n int) ([]string, error) {
	out, err := exec.CommandContext(ctx, "perf", "report", "-i", path, "--stdio", mode, "--sort", "symbol", "-g", "none").Output()
	if err != nil {
		return nil, fmt.Errorf("perf report: %w", err)
	}
	var lines []string
	for line := range strings.SplitSeq(string(out), "\n") {
		line = strings.TrimRight(line, " -")
		if !strings.Contains(line, "%") || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if filter != "" && !strings.Contains(line, filter) {
			continue
		}
		lines = append(lines, strings.TrimSpace(line))
		if len(lines) == n {
			break
		}
	}
	return lines, nil
}
