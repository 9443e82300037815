package chaos

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/configgen"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

// binary is the dispatchoor executable TestMain builds once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dispatchoor-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos: temp dir:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dispatchoor")
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	} else if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
		goTool = "/usr/local/go/bin/go"
	}
	// Built without -race on purpose: the race detector slows the server
	// several times and the suite measures behaviour under kills, not races
	// (the packages' own -race tests cover those).
	build := exec.Command(goTool, "build", "-o", binary, "github.com/ethpandaops/dispatchoor/cmd/dispatchoor")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos: build dispatchoor:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	org        = "chaos-org"
	repoName   = "work"
	groupID    = "chaos"
	templateID = "work"
	adminUser  = "admin"
	adminPass  = "chaos-admin-password-0123"
	hookSecret = "chaos-webhook-secret"
)

// worldOptions shape the simulated GitHub of a scenario.
type worldOptions struct {
	Seed    uint64
	Runners int
	Speed   float64
}

// newWorld starts the simulator (closed by t.Cleanup) with one org, one
// repository whose workflow declares dispatchoor_job_id and shows it as the
// run name, the App installed, and Runners idle runners.
func newWorld(t *testing.T, opts worldOptions) *ghsim.Sim {
	t.Helper()
	sim := ghsimtest.New(t, ghsim.Options{
		Seed: opts.Seed, Speed: opts.Speed, WebhookSecret: hookSecret,
		ClientID: "Iv1.chaos", ClientSecret: "chaos-client-secret",
		JobDurationMin: 10 * time.Second, JobDurationMax: 40 * time.Second,
	})
	sim.AddOrg(org)
	_, err := sim.AddRepo(ghsim.Repo{Owner: org, Name: repoName, DefaultBranch: "main", Workflows: []*ghsim.Workflow{{
		File: "job.yml", Name: "Chaos job",
		Inputs:       []ghsim.WorkflowInput{{Name: "dispatchoor_job_id"}},
		RunsOn:       []string{"self-hosted", "chaos"},
		RunNameInput: "dispatchoor_job_id",
	}}})
	if err != nil {
		t.Fatalf("add repo: %v", err)
	}
	if _, err := sim.AddInstallation(ghsim.Installation{Account: org}); err != nil {
		t.Fatalf("add installation: %v", err)
	}
	for i := 1; i <= opts.Runners; i++ {
		_, err := sim.AddRunner(ghsim.Runner{
			Name: fmt.Sprintf("chaos-%03d", i), Scope: "org:" + org,
			Labels: []string{"self-hosted", "linux", "chaos"}, Online: true,
		})
		if err != nil {
			t.Fatalf("add runner: %v", err)
		}
	}
	return sim
}

// chaosConfig is an ordinary config: the binary loads and validates it as
// it would in production. Rate limits are lifted because the test polls the
// API from one address far harder than a dashboard would.
func chaosConfig(sim *ghsim.Sim, opts replicaOptions, addr, keyPath string) configgen.Config {
	db := configgen.SQLiteDatabase(filepath.Join(opts.Dir, "dispatchoor.db"))
	if opts.PostgresDSN != "" {
		db = configgen.PostgresDatabase(opts.PostgresDSN)
	}
	return configgen.Config{
		Server: configgen.Server{Listen: addr, PublicURL: "http://" + addr, RateLimit: &configgen.RateLimits{
			Auth: configgen.RateLimit{RequestsPerMinute: 100000}, Public: configgen.RateLimit{RequestsPerMinute: 100000},
			Authenticated: configgen.RateLimit{RequestsPerMinute: 1000000},
		}},
		Database: db,
		GitHub: configgen.GitHub{WebURL: sim.BaseURL(), APIURL: sim.APIURL(), Pacing: configgen.NoPacing(), App: configgen.App{
			ID: sim.AppID(), PrivateKeyPath: keyPath, WebhookSecret: hookSecret,
			ClientID: "Iv1.chaos", ClientSecret: "chaos-client-secret",
		}},
		// dispatching_grace is short enough that jobs whose dispatch died
		// with the server come back within the test; the runs listing here
		// never lags, so no run is missed.
		Dispatcher: configgen.Dispatcher{Enabled: true, Interval: 2 * time.Second, ReconcileInterval: opts.Reconcile,
			StartTimeout: 10 * time.Minute, DispatchingGrace: 10 * time.Second},
		SlashCommands: &configgen.SlashCommands{Enabled: false},
		Auth: configgen.Auth{SessionTTL: 24 * time.Hour, Basic: configgen.Basic{Enabled: true, Users: []configgen.User{
			{Username: adminUser, Password: adminPass, Role: "admin"},
		}}},
		History: &configgen.History{RetentionDays: 7, CleanupInterval: time.Hour},
		Groups: configgen.Groups{GitHub: []configgen.Group{{
			ID: groupID, Name: "Chaos", RunnerLabels: []string{"self-hosted", "chaos"}, RunnerScope: "org:" + org,
			Templates: []configgen.Template{{ID: templateID, Name: "Chaos job", Owner: org, Repo: repoName,
				WorkflowID: "job.yml", Ref: "main", Inputs: map[string]string{"dispatchoor_job_id": ""}}},
		}}},
	}
}

// replica is one dispatchoor server process, restartable on the same
// address, config and database.
type replica struct {
	t      *testing.T
	name   string
	addr   string
	config string
	logf   *os.File

	mu  sync.Mutex
	cmd *exec.Cmd
}

// replicaOptions place one replica.
type replicaOptions struct {
	Name        string
	Dir         string // config, key, SQLite database, log
	PostgresDSN string // empty: SQLite in Dir
	Reconcile   time.Duration
}

func newReplica(t *testing.T, sim *ghsim.Sim, opts replicaOptions) *replica {
	t.Helper()
	addr := freeAddr(t)
	keyPath := filepath.Join(opts.Dir, "app.pem")
	if err := os.WriteFile(keyPath, sim.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatalf("write app key: %v", err)
	}
	data, err := chaosConfig(sim, opts, addr, keyPath).YAML("the chaos suite")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(opts.Dir, opts.Name+".yml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	logf, err := os.Create(filepath.Join(opts.Dir, opts.Name+".log"))
	if err != nil {
		t.Fatalf("create log: %v", err)
	}
	r := &replica{t: t, name: opts.Name, addr: addr, config: cfg, logf: logf}
	t.Cleanup(func() {
		r.kill()
		logf.Close()
	})
	return r
}

// freeAddr reserves a port for a replica; it keeps it across restarts so
// the simulator and the test client never need to learn a new address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (r *replica) url() string { return "http://" + r.addr }

// start launches the server and waits until /health answers.
func (r *replica) start(ctx context.Context) {
	r.t.Helper()
	cmd := exec.Command(binary, "server", "--config", r.config, "--log-format", "json")
	cmd.Stdout, cmd.Stderr = r.logf, r.logf
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start %s: %v", r.name, err)
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(r.url() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if cmd.ProcessState != nil || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("%s did not become healthy at %s within 30s; log: %s", r.name, r.url(), r.logf.Name())
}

// kill SIGKILLs the process, as a crash or an OOM kill would, and reaps it.
// Killing a replica that is not running does nothing.
func (r *replica) kill() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func (r *replica) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}
