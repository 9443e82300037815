package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/configgen"
)

const adminPassword = "bench-admin-password"

// serverOptions are what a scenario varies in the product's config. The
// durations are wall-clock ones, as the server knows no simulated time:
// scenarios divide simulated intervals by the simulator's Speed.
type serverOptions struct {
	Bin          string
	Dir          string
	DSN          string // PostgreSQL when set, else SQLite in Dir
	Interval     time.Duration
	Reconcile    time.Duration
	StartTimeout time.Duration
	// Redeliver is dispatcher.redeliver_interval; zero keeps the default.
	Redeliver time.Duration
	// Pprof, when set, is the server.pprof_listen address.
	Pprof  string
	Groups []groupSpec
	// Pacing is github.pacing; nil turns the pacer off (worlds faster than
	// real time would only be slowed by limits in wall-clock minutes).
	Pacing *configgen.Pacing
}

// benchConfig is the product's config for a scenario. Rate limits are off:
// the benchmark drives the API far harder than a dashboard would.
func benchConfig(w *world, opts serverOptions, listen string) configgen.Config {
	db := configgen.SQLiteDatabase(opts.Dir + "/dispatchoor.db")
	if opts.DSN != "" {
		db = configgen.PostgresDatabase(opts.DSN)
	}
	pacing := opts.Pacing
	if pacing == nil {
		pacing = configgen.NoPacing()
	}
	groups := make([]configgen.Group, 0, len(opts.Groups))
	for _, g := range opts.Groups {
		groups = append(groups, configgen.Group{
			ID: g.ID, Name: g.ID, RunnerLabels: g.Labels, RunnerScope: "org:" + g.Owner(),
			Templates: []configgen.Template{{ID: g.ID + "-job", Name: g.ID + " job", Owner: g.Owner(), Repo: benchRepo,
				WorkflowID: g.workflow(), Ref: "main", Inputs: map[string]string{"dispatchoor_job_id": ""}}},
		})
	}
	return configgen.Config{
		Server: configgen.Server{Listen: listen, PublicURL: "http://" + listen, PprofListen: opts.Pprof,
			RateLimit: &configgen.RateLimits{}},
		Database: db,
		GitHub: configgen.GitHub{WebURL: w.sim.BaseURL(), APIURL: w.sim.APIURL(), Pacing: pacing, App: configgen.App{
			ID: w.sim.AppID(), PrivateKeyPath: opts.Dir + "/app.pem", WebhookSecret: "${BENCH_WEBHOOK_SECRET}",
			ClientID: w.sim.ClientID(), ClientSecret: "${BENCH_CLIENT_SECRET}",
		}},
		Dispatcher: configgen.Dispatcher{Enabled: true, Interval: opts.Interval, ReconcileInterval: opts.Reconcile,
			StartTimeout: opts.StartTimeout, RedeliverInterval: opts.Redeliver},
		Auth: configgen.Auth{Basic: configgen.Basic{Enabled: true, Users: []configgen.User{
			{Username: "admin", Password: "${BENCH_ADMIN_PASSWORD}", Role: "admin"},
		}}},
		Groups: configgen.Groups{GitHub: groups},
	}
}

// server is the real binary running as a subprocess, and an admin session
// on its API.
type server struct {
	cmd  *exec.Cmd
	url  string
	http *http.Client
	done chan error
	log  *os.File
}

func startServer(ctx context.Context, w *world, opts serverOptions) (*server, error) {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("server folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(opts.Dir, "app.pem"), w.sim.PrivateKeyPEM(), 0o600); err != nil {
		return nil, fmt.Errorf("write app key: %w", err)
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := benchConfig(w, opts, listen).YAML("go run ./tools/bench")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(opts.Dir, "config.yml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	logf, err := os.Create(filepath.Join(opts.Dir, "server.log"))
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	cmd := exec.Command(opts.Bin, "server", "--config", path, "--log-level", "warn", "--log-format", "json")
	cmd.Env = append(os.Environ(),
		"BENCH_WEBHOOK_SECRET="+hookSecret, "BENCH_CLIENT_SECRET="+w.sim.ClientSecret(),
		"BENCH_ADMIN_PASSWORD="+adminPassword)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", opts.Bin, err)
	}
	jar, _ := cookiejar.New(nil)
	s := &server{cmd: cmd, url: "http://" + listen, done: make(chan error, 1), log: logf,
		http: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitHealthy(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	if err := s.call(ctx, http.MethodPost, "/api/v1/auth/login",
		map[string]string{"username": "admin", "password": adminPassword}, nil); err != nil {
		s.stop()
		return nil, fmt.Errorf("log in: %w", err)
	}
	return s, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (s *server) waitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("server exited during start: %v", err)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/health", nil)
		if resp, err := s.http.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server not healthy within 60s")
}

// call sends a JSON request with the session (and the CSRF header the API
// requires of cookie sessions) and decodes a 2xx answer into out.
func (s *server) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "dispatchoor")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// enqueue adds one job of the group's template at the bottom of its queue.
func (s *server) enqueue(ctx context.Context, group string) (int64, error) {
	var job struct {
		ID int64 `json:"id"`
	}
	err := s.call(ctx, http.MethodPost, "/api/v1/groups/"+group+"/queue",
		map[string]any{"template_id": group + "-job", "position": "bottom"}, &job)
	return job.ID, err
}

func (s *server) setPaused(ctx context.Context, group string, paused bool) error {
	action := "unpause"
	if paused {
		action = "pause"
	}
	return s.call(ctx, http.MethodPost, "/api/v1/groups/"+group+"/"+action, nil, nil)
}

// memory is the server process's resident set now and at its peak, in KiB.
func (s *server) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read server memory: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			peak = v
		}
	}
	return rss, peak, nil
}

// stop ends the server as an operator would (SIGTERM), then kills it if
// it has not finished within 20s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}
