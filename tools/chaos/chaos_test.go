package chaos

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// scenario is one chaos run.
type scenario struct {
	Seed     uint64
	Runners  int
	Jobs     int
	Kills    int
	Speed    float64 // simulated seconds per real second
	Replicas int     // > 1 needs PostgreSQL
	Postgres bool
	// KillEvery is the pause between kills: fixed when KillJitter is zero,
	// else drawn from [KillEvery, KillEvery+KillJitter).
	KillEvery, KillJitter time.Duration
	Reconcile             time.Duration
	SettleTimeout         time.Duration
}

// faults are the mix: 30 % of webhooks dropped, 10 % duplicated,
// deliveries reordered, 10 % of REST calls 5xx, 2 % 429 with Retry-After.
// Every REST answer also takes 50–150 ms (real time): the simulator goes on
// handling a request whose client died, so a kill during that window leaves
// a run on GitHub whose dispatch answer nobody read — the case that must be
// adopted, never sent again.
func faults(speed float64) ghsim.Faults {
	simulated := func(d time.Duration) time.Duration { return time.Duration(float64(d) * speed) }
	return ghsim.Faults{
		WebhookDrop: 0.30, WebhookDuplicate: 0.10, WebhookReorder: 0.20,
		REST5xx: 0.10, REST429: 0.02, RetryAfter: time.Second,
		Latency: simulated(50 * time.Millisecond), LatencyJitter: simulated(100 * time.Millisecond),
	}
}

func seed(t *testing.T, def uint64) uint64 {
	if s := os.Getenv("DISPATCHOOR_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DISPATCHOOR_CHAOS_SEED=%q: %v", s, err)
		}
		return v
	}
	return def
}

// TestChaosShort is the version make test runs: one server on SQLite,
// SIGKILLed at random moments while faults fly.
func TestChaosShort(t *testing.T) {
	run(t, scenario{
		Seed: seed(t, 1), Runners: 10, Jobs: 100, Kills: 5, Speed: 60, Replicas: 1,
		KillEvery: 2 * time.Second, KillJitter: 4 * time.Second,
		Reconcile: 3 * time.Second, SettleTimeout: 5 * time.Minute,
	})
}

func long(t *testing.T) {
	if os.Getenv("DISPATCHOOR_CHAOS_LONG") == "" {
		t.Skip("long chaos run: set DISPATCHOOR_CHAOS_LONG=1 (make test runs TestChaosShort)")
	}
}

// TestChaosLongSQLite: 50 runners, 1,000 jobs, 20 SIGKILLs.
func TestChaosLongSQLite(t *testing.T) {
	long(t)
	run(t, scenario{
		Seed: seed(t, 2), Runners: 50, Jobs: 1000, Kills: 20, Speed: 30, Replicas: 1,
		KillEvery: 3 * time.Second, KillJitter: 6 * time.Second,
		Reconcile: 5 * time.Second, SettleTimeout: 6 * time.Minute,
	})
}

// TestChaosLongReplicas: three replicas on PostgreSQL, the leader
// SIGKILLed every 30 s, webhooks spread round-robin over the replicas.
func TestChaosLongReplicas(t *testing.T) {
	long(t)
	run(t, scenario{
		Seed: seed(t, 3), Runners: 50, Jobs: 1000, Kills: 6, Speed: 10, Replicas: 3, Postgres: true,
		KillEvery: 30 * time.Second, Reconcile: 5 * time.Second, SettleTimeout: 6 * time.Minute,
	})
}

// kill is one SIGKILL and how the system came back.
type kill struct {
	replica  string
	at       time.Time     // wall clock
	simAt    time.Time     // simulated clock
	takeover time.Duration // until a replica (the restarted one, alone) reports leader
	simBack  time.Time     // simulated clock when a leader was seen again
}

func run(t *testing.T, sc scenario) {
	ctx := context.Background()
	began := time.Now()
	t.Logf("chaos seed %d (DISPATCHOOR_CHAOS_SEED reproduces it): %d runners, %d jobs, %d kills, %d replica(s)",
		sc.Seed, sc.Runners, sc.Jobs, sc.Kills, sc.Replicas)
	sim := newWorld(t, worldOptions{Seed: sc.Seed, Runners: sc.Runners, Speed: sc.Speed})
	dir, err := os.MkdirTemp("", "dispatchoor-chaos-")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("DISPATCHOOR_CHAOS_KEEP") != "" {
			t.Logf("server logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	dsn := ""
	if sc.Postgres {
		dsn = storetest.PostgresDSN(t)
	}
	reps := make([]*replica, sc.Replicas)
	for i := range reps {
		name := "replica-" + strconv.Itoa(i)
		rdir := filepath.Join(dir, name)
		if err := os.MkdirAll(rdir, 0o700); err != nil {
			t.Fatalf("replica dir: %v", err)
		}
		reps[i] = newReplica(t, sim, replicaOptions{Name: name, Dir: rdir, PostgresDSN: dsn, Reconcile: sc.Reconcile})
		reps[i].start(ctx)
	}
	if len(reps) == 1 {
		sim.SetWebhookURL(reps[0].url() + "/api/github/hook")
	} else {
		sim.SetWebhookURL(roundRobin(t, reps) + "/api/github/hook")
	}
	base := func() string {
		for _, r := range reps {
			if r.running() {
				return r.url()
			}
		}
		return reps[0].url()
	}
	c, err := newClient(ctx, base())
	if err != nil {
		t.Fatal(err)
	}

	sim.SetFaults(faults(sc.Speed))
	rng := rand.New(rand.NewPCG(sc.Seed, sc.Seed^0xc4a05))
	var ids []int64
	enqueue := func(n int) {
		for range n {
			// Enqueues and kills never overlap, so an answer lost to a
			// kill cannot leave a job the test does not know about.
			j, err := c.enqueue(ctx, base())
			if err != nil {
				t.Fatalf("enqueue: %v", err)
			}
			ids = append(ids, j.ID)
		}
	}
	batch := sc.Jobs / (sc.Kills + 1)
	var kills []kill
	for i := range sc.Kills {
		enqueue(batch)
		pause := sc.KillEvery
		switch {
		case sc.KillJitter > 0 && i%2 == 1:
			// Right after a batch: the enqueue woke the dispatcher, so
			// dispatch requests are most likely on the wire now.
			pause = time.Duration(40+rng.IntN(100)) * time.Millisecond
		case sc.KillJitter > 0:
			pause += time.Duration(rng.Int64N(int64(sc.KillJitter)))
		}
		time.Sleep(pause)
		target := findLeader(ctx, c, reps, 10*time.Second)
		k := kill{replica: target.name, at: time.Now(), simAt: sim.Now()}
		target.kill()
		if len(reps) == 1 {
			time.Sleep(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
			target.start(ctx)
		}
		if findLeader(ctx, c, reps, 60*time.Second) == nil {
			t.Fatalf("kill %d: no replica became leader within 60s", i+1)
		}
		k.takeover, k.simBack = time.Since(k.at), sim.Now()
		if len(reps) > 1 {
			target.start(ctx)
		}
		kills = append(kills, k)
		t.Logf("kill %d/%d: %s SIGKILLed, leader again after %s", i+1, sc.Kills, k.replica, k.takeover.Round(time.Millisecond))
	}
	enqueue(sc.Jobs - len(ids))
	chaosFor := time.Since(began)

	settled := settle(ctx, t, sim, c, base, sc.SettleTimeout)
	v := check(ctx, t, sim, c, base(), ids)
	v.report(t)
	reportKills(t, sim, sc, kills)
	t.Logf("timing: chaos phase %s, settle after faults off %s, whole run %s",
		chaosFor.Round(time.Second), settled.Round(time.Second), time.Since(began).Round(time.Second))
}

// findLeader polls every running replica's /api/v1/status until one says
// it leads; nil after timeout.
func findLeader(ctx context.Context, c *client, reps []*replica, timeout time.Duration) *replica {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, r := range reps {
			if r.running() && c.isLeader(ctx, r.url()) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(reps) == 1 {
		return reps[0]
	}
	return nil
}

// reportKills logs takeover times and, per kill, how long until the next
// accepted dispatch reached the simulator.
func reportKills(t *testing.T, sim *ghsim.Sim, sc scenario, kills []kill) {
	t.Helper()
	if len(kills) == 0 {
		return
	}
	var dispatchAt []time.Time
	for _, r := range sim.Requests(func(r ghsim.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/dispatches") && r.Status < 300
	}) {
		dispatchAt = append(dispatchAt, r.Time)
	}
	var takeovers, firsts []time.Duration
	orphaned := 0
	for _, k := range kills {
		takeovers = append(takeovers, k.takeover)
		for _, at := range dispatchAt {
			// Accepted while no leader was up: sent by the killed process,
			// which never read the answer (the simulator finishes a request
			// whose client died). Its job must adopt that run.
			if at.After(k.simAt) && at.Before(k.simBack) {
				orphaned++
			}
		}
		for _, at := range dispatchAt {
			if at.After(k.simAt) {
				firsts = append(firsts, time.Duration(float64(at.Sub(k.simAt))/sc.Speed))
				break
			}
		}
	}
	t.Logf("takeover (kill -> a replica reports leader): %s", summary(takeovers))
	t.Logf("kill -> next accepted dispatch on GitHub: %s", summary(firsts))
	t.Logf("dispatches accepted by GitHub after their sender was killed (answer never read): %d", orphaned)
}

func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return "min " + s[0].Round(time.Millisecond).String() +
		", median " + s[len(s)/2].Round(time.Millisecond).String() +
		", max " + s[len(s)-1].Round(time.Millisecond).String() +
		" (n=" + strconv.Itoa(len(s)) + ")"
}

// roundRobin is a tiny reverse proxy in front of the replicas, GitHub's
// webhook URL: each delivery goes to the next replica, so followers handle
// webhooks as much as the leader does. A delivery to a dead replica fails
// (502), as it would behind a real load balancer without health checks.
func roundRobin(t *testing.T, reps []*replica) string {
	t.Helper()
	var n atomic.Uint64
	proxies := make([]*httputil.ReverseProxy, len(reps))
	for i, r := range reps {
		u, err := url.Parse(r.url())
		if err != nil {
			t.Fatalf("replica url: %v", err)
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway) // a dead replica: expected, not worth a log line
		}
		proxies[i] = p
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[int(n.Add(1)%uint64(len(proxies)))].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
