package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runProfile takes a CPU profile of the server, through its
// server.pprof_listen endpoint, while it runs scenario 2 (dispatchoor's
// variant, short size), and lists where the time went.
func runProfile(ctx context.Context, e env) (result, error) {
	r := result{Title: "6. CPU profile of scenario 2 (server process)"}
	data := filepath.Join(e.Dir, "fleet.cpu.pprof")
	const seconds = 25
	v := variant{Name: "dispatchoor (profiled)", Webhooks: true, Interval: 15 * time.Second, Reconcile: 5 * time.Minute,
		StartTimeout: 30 * time.Minute, Redeliver: 30 * time.Minute, Idle: time.Minute,
		Profile: data, ProfileFor: seconds * time.Second}
	if _, err := fleetOn(ctx, e, v, 500, 20); err != nil {
		return r, err
	}
	self, err := pprofTop(ctx, data, false, "", 15)
	if err != nil {
		return r, err
	}
	cum, err := pprofTop(ctx, data, true, "ethpandaops", 30)
	if err != nil {
		return r, err
	}
	r.line("`GET /debug/pprof/profile?seconds=%d` on `server.pprof_listen` while scenario 2 ran (500 jobs, 50 runners, "+
		"Speed 20, SQLite), from the moment the jobs were released; read with `go tool pprof -top`. The profile is kept "+
		"at %s for `go tool pprof -http`.", seconds, "`"+data+"`")
	r.line("")
	r.line("Top functions by own CPU (flat, flat%%, sum%%, cum, cum%%):")
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

// startCPUProfile fetches a CPU profile of d from the pprof listener at
// addr into path, in the background; the channel yields the outcome.
func startCPUProfile(ctx context.Context, addr, path string, d time.Duration) <-chan error {
	out := make(chan error, 1)
	go func() {
		out <- fetchProfile(ctx, addr, path, d)
	}()
	return out
}

func fetchProfile(ctx context.Context, addr, path string, d time.Duration) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	resp, err := (&http.Client{Timeout: d + time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("cpu profile: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}

// pprofTop is `go tool pprof -top`'s first n entries (sorted by cumulative
// time when cum), optionally only those whose symbol contains filter.
func pprofTop(ctx context.Context, path string, cum bool, filter string, n int) ([]string, error) {
	args := []string{"tool", "pprof", "-top", "-nodecount=400"}
	if cum {
		args = append(args, "-cum")
	}
	out, err := exec.CommandContext(ctx, "go", append(args, path)...).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %w", err)
	}
	var lines []string
	table := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "flat ") {
			table = true
			continue
		}
		if !table || line == "" || (filter != "" && !strings.Contains(line, filter)) {
			continue
		}
		lines = append(lines, line)
		if len(lines) == n {
			break
		}
	}
	return lines, sc.Err()
}
