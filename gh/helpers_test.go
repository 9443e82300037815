package gh_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
	"github.com/rs/zerolog"
)

// world is a simulator with one org ("acme"), its repo "acme/app" holding a
// workflow "sync.yml", the App installed on the org, and a gh.Client
// talking to it over HTTP.
type world struct {
	sim    *ghsim.Sim
	client *gh.Client
	inst   int64
	obs    *observations
	sleeps *sleeps
}

type observations struct {
	mu   sync.Mutex
	list []gh.Observation
}

func (o *observations) observe(ob gh.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, ob)
}

func (o *observations) all() []gh.Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]gh.Observation(nil), o.list...)
}

// sleeps records the waits the retry policy asked for and returns at once
// (or with ctx's error), so back-off is asserted without waiting.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

type worldOpts struct {
	sim   ghsim.Options
	pace  gh.PaceLimits
	retry gh.RetryPolicy
	sleep func(context.Context, time.Duration) error
}

func newWorld(t *testing.T, opts worldOpts) *world {
	t.Helper()
	sim := ghsimtest.New(t, opts.sim)
	if _, err := sim.AddRepo(ghsim.Repo{
		Owner: "acme", Name: "app", Branches: []string{"release"},
		Workflows: []*ghsim.Workflow{{
			File: "sync.yml", Name: "Sync",
			Inputs:       []ghsim.WorkflowInput{{Name: "target"}, {Name: "dispatchoor_job_id"}},
			RunsOn:       []string{"self-hosted", "sync"},
			RunNameInput: "dispatchoor_job_id",
		}},
	}); err != nil {
		t.Fatal(err)
	}
	inst, err := sim.AddInstallation(ghsim.Installation{Account: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{sim: sim, inst: inst, obs: &observations{}, sleeps: &sleeps{}}
	sleep := opts.sleep
	if sleep == nil {
		sleep = w.sleeps.sleep
	}
	w.client, err = gh.New(gh.Options{
		APIURL:     sim.APIURL(),
		AppID:      sim.AppID(),
		PrivateKey: sim.PrivateKeyPEM(),
		Logger:     zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		Observer:   w.obs.observe,
		Retry:      opts.retry,
		Sleep:      sleep,
		Pace:       opts.pace,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// requests lists the simulator's recorded requests of method whose path
// ends with suffix.
func (w *world) requests(method, suffix string) []ghsim.Request {
	return w.sim.Requests(func(r ghsim.Request) bool {
		return r.Method == method && strings.HasSuffix(r.Path, suffix)
	})
}

// body decodes a recorded request body.
func body(t *testing.T, r ghsim.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.RequestBody, &m); err != nil {
		t.Fatalf("request body %q: %v", r.RequestBody, err)
	}
	return m
}

// once matches the first request of method whose path ends with suffix,
// for one-shot faults.
func once(method, suffix string) func(string, string) bool {
	var mu sync.Mutex
	fired := false
	return func(m, path string) bool {
		mu.Lock()
		defer mu.Unlock()
		if fired || m != method || !strings.HasSuffix(path, suffix) {
			return false
		}
		fired = true
		return true
	}
}

// every matches each request of method whose path ends with suffix.
func every(method, suffix string) func(string, string) bool {
	return func(m, path string) bool { return m == method && strings.HasSuffix(path, suffix) }
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
