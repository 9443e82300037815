package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

const (
	org        = "acme"
	benchRepo  = "bench"
	hookSecret = "bench-webhook-secret"
)

// groupSpec is one runner group of a scenario: the labels its jobs run on,
// the runners that serve it and the labels those runners carry beyond them
// (real fleets are labelled richer than the groups that select them).
type groupSpec struct {
	ID      string
	Labels  []string
	Extra   []string
	Runners int
	// Org owns the group's repository, runners and installation; "acme"
	// when empty. Separate orgs are separate installations, each with its
	// own rate limit (5,000 requests an hour, which ghsim counts and the
	// client honours).
	Org string
}

func (g groupSpec) workflow() string { return g.ID + ".yml" }

// Owner is the org of the group's repository and runners.
func (g groupSpec) Owner() string {
	if g.Org == "" {
		return org
	}
	return g.Org
}

// worldOptions shape the simulated GitHub of a scenario.
type worldOptions struct {
	Seed        uint64
	Speed       float64
	PickupDelay time.Duration
	Groups      []groupSpec
	// Duration draws a job's simulated run time.
	Duration func(r *rand.Rand) time.Duration
	// Idle adds runners that match no group (queue scale: memory).
	Idle int
	// Offline starts the groups' runners offline (burst: they come online
	// at once later).
	Offline bool
	// SecondaryLimits are GitHub's secondary rate limits, counted in wall
	// time; zero enforces none (worlds faster than real time).
	SecondaryLimits ghsim.SecondaryLimits
}

// arrival is a dispatch request as it reached the simulator, stamped with
// the wall clock before the simulator does anything with it.
type arrival struct {
	At       time.Time
	Workflow string
}

// world is ghsim served on loopback behind a thin recorder: ghsim's own
// request log stamps simulated time after the handler ran, too coarse for
// millisecond latencies at high speed.
type world struct {
	sim *ghsim.Sim
	hs  *http.Server
	ln  net.Listener

	mu         sync.Mutex
	dispatches []arrival
}

func newWorld(opts worldOptions) (*world, error) {
	// Installation tokens live an hour of wall time, as on GitHub: the
	// client refreshes a token a minute before it expires, so a simulated
	// hour at Speed 60 would make it fetch a token for every request.
	sim, err := ghsim.New(ghsim.Options{
		Seed: opts.Seed, Speed: opts.Speed, WebhookSecret: hookSecret, PickupDelay: opts.PickupDelay,
		TokenTTL: time.Duration(float64(time.Hour) * max(opts.Speed, 1)), Logger: zerolog.Nop(),
		// GitHub's 5,000 requests an hour per credential, per simulated hour:
		// at Speed 15 a wall hour holds 15 of them.
		RateLimit:       int(5000 * max(opts.Speed, 1)),
		SecondaryLimits: opts.SecondaryLimits,
	})
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	w := &world{sim: sim}
	if err := w.populate(opts); err != nil {
		sim.Close()
		return nil, err
	}
	w.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("listen for the simulator: %w", err)
	}
	sim.SetBaseURL("http://" + w.ln.Addr().String())
	inner := sim.Handler()
	w.hs = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/dispatches") {
			at := time.Now()
			parts := strings.Split(r.URL.Path, "/")
			wf := parts[len(parts)-2]
			w.mu.Lock()
			w.dispatches = append(w.dispatches, arrival{At: at, Workflow: wf})
			w.mu.Unlock()
		}
		inner.ServeHTTP(rw, r)
	})}
	go func() { _ = w.hs.Serve(w.ln) }()
	return w, nil
}

func (w *world) populate(opts worldOptions) error {
	s := w.sim
	wfs := map[string][]*ghsim.Workflow{org: nil}
	orgs := []string{org}
	for _, g := range opts.Groups {
		if _, ok := wfs[g.Owner()]; !ok {
			orgs = append(orgs, g.Owner())
		}
		wfs[g.Owner()] = append(wfs[g.Owner()], &ghsim.Workflow{
			File: g.workflow(), RunsOn: g.Labels, Duration: opts.Duration,
			Inputs:       []ghsim.WorkflowInput{{Name: "dispatchoor_job_id"}},
			RunNameInput: "dispatchoor_job_id",
		})
	}
	for _, o := range orgs {
		s.AddOrg(o)
		if _, err := s.AddRepo(ghsim.Repo{Owner: o, Name: benchRepo, DefaultBranch: "main", Workflows: wfs[o]}); err != nil {
			return fmt.Errorf("bench repo of %s: %w", o, err)
		}
		if _, err := s.AddInstallation(ghsim.Installation{Account: o}); err != nil {
			return fmt.Errorf("bench installation on %s: %w", o, err)
		}
	}
	add := func(owner, name string, labels []string) error {
		_, err := s.AddRunner(ghsim.Runner{Name: name, Scope: "org:" + owner, Labels: labels, Online: !opts.Offline})
		if err != nil {
			return fmt.Errorf("runner %s: %w", name, err)
		}
		return nil
	}
	for _, g := range opts.Groups {
		labels := append(append([]string{}, g.Labels...), g.Extra...)
		for i := range g.Runners {
			if err := add(g.Owner(), fmt.Sprintf("%s-%03d", g.ID, i), labels); err != nil {
				return err
			}
		}
	}
	for i := range opts.Idle {
		if err := add(org, fmt.Sprintf("spare-%05d", i), []string{"self-hosted", "spare"}); err != nil {
			return err
		}
	}
	return nil
}

// dispatchArrivals is a copy of the dispatch requests seen so far.
func (w *world) dispatchArrivals() []arrival {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]arrival(nil), w.dispatches...)
}

// realAt turns a simulated instant into the wall-clock one.
func (w *world) realAt(t time.Time) time.Time { return w.sim.Clock().RealAt(t) }

// sendStart is when the simulator began to post a delivery, on the wall
// clock: DeliveredAt is stamped after the receiver answered.
func (w *world) sendStart(d ghsim.Delivery) time.Time {
	return w.realAt(d.DeliveredAt).Add(-d.Duration)
}

func (w *world) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = w.hs.Close()
	}
	w.sim.Close()
}

// waitFor polls cond every step until it holds or ctx/limit ends.
func waitFor(ctx context.Context, limit, step time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(step)
	}
	return true
}
