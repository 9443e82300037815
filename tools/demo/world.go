package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// Org is the demo organization.
const Org = "demo-org"

// Options shape the demo world.
type Options struct {
	Seed uint64
	// Speed is simulated seconds per real second. Jobs last 20–90 simulated
	// seconds, so the default of 6 makes them visibly finish in seconds.
	Speed  float64
	Logger zerolog.Logger
}

// World is the simulator populated for the demo.
type World struct {
	Sim  *ghsim.Sim
	rand *rand.Rand // the feeder's draws, seeded from Options.Seed
	opts Options
}

// runnerSpec describes a batch of simulated runners.
type runnerSpec struct {
	prefix    string
	labels    []string
	count     int
	ephemeral bool
	online    bool
}

var fleet = []runnerSpec{
	{prefix: "sync", labels: []string{"self-hosted", "linux", "sync-test"}, count: 4, online: true},
	{prefix: "sync-eph", labels: []string{"self-hosted", "linux", "sync-test"}, count: 2, ephemeral: true, online: true},
	{prefix: "gpu", labels: []string{"self-hosted", "linux", "gpu"}, count: 2, online: true},
	{prefix: "gpu-spare", labels: []string{"self-hosted", "linux", "gpu"}, count: 1, online: false},
}

// NewWorld creates the simulator and populates it. The caller starts it
// (Sim.ListenAndServe) and points its webhooks at the server.
func NewWorld(opts Options) (*World, error) {
	if opts.Speed <= 0 {
		opts.Speed = 6
	}
	sim, err := ghsim.New(ghsim.Options{
		Seed:  opts.Seed,
		Speed: opts.Speed,
		// Random like the passwords: a secret derived from the seed would
		// let anyone who can reach the demo forge signed webhooks (a
		// /dispatch comment, say) into it.
		WebhookSecret: randomPassword(),
		AppSlug:       "dispatchoor-demo",
		ClientID:      "Iv1.demo",
		ClientSecret:  randomPassword(),
		// GitHub's secondary limits, as dispatchoor meets them in
		// production (the demo's pace stays far below them).
		SecondaryLimits: ghsim.DefaultSecondaryLimits(),
		JobDurationMin:  20 * time.Second,
		JobDurationMax:  90 * time.Second,
		Logger:          opts.Logger.With().Str("component", "ghsim").Logger(),
	})
	if err != nil {
		return nil, fmt.Errorf("demo simulator: %w", err)
	}
	w := &World{Sim: sim, rand: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)), opts: opts}
	if err := w.populate(); err != nil {
		sim.Close()
		return nil, err
	}
	return w, nil
}

func (w *World) populate() error {
	s := w.Sim
	s.AddOrg(Org)
	// The simulator hands its own seeded source, so conclusions follow the seed.
	conclusion := func(failRate float64) func(r *rand.Rand) string {
		return func(r *rand.Rand) string {
			if r.Float64() < failRate {
				return "failure"
			}
			return "success"
		}
	}
	repos := []ghsim.Repo{
		{Owner: Org, Name: "sync-tests", DefaultBranch: "main", Workflows: []*ghsim.Workflow{{
			File: "sync.yml", Name: "Sync test",
			Inputs: []ghsim.WorkflowInput{
				{Name: "network", Required: true},
				{Name: "el-client"}, {Name: "cl-client"},
				{Name: "dispatchoor_job_id"},
			},
			RunsOn:       []string{"self-hosted", "sync-test"},
			RunNameInput: "dispatchoor_job_id",
			Conclusion:   conclusion(0.1),
		}}},
		{Owner: Org, Name: "gpu-bench", DefaultBranch: "main", Workflows: []*ghsim.Workflow{{
			File: "bench.yml", Name: "GPU benchmark",
			Inputs:       []ghsim.WorkflowInput{{Name: "model"}, {Name: "dispatchoor_job_id"}},
			RunsOn:       []string{"self-hosted", "gpu"},
			RunNameInput: "dispatchoor_job_id",
			Conclusion:   conclusion(0.05),
		}}},
	}
	for _, r := range repos {
		if _, err := s.AddRepo(r); err != nil {
			return fmt.Errorf("demo repo %s: %w", r.Name, err)
		}
	}
	if _, err := s.AddInstallation(ghsim.Installation{Account: Org}); err != nil {
		return fmt.Errorf("demo installation: %w", err)
	}
	for _, u := range []ghsim.User{
		{Login: "maintainer", Orgs: []string{Org}},
		{Login: "visitor"},
	} {
		s.AddUser(u)
	}
	for _, repo := range []string{Org + "/sync-tests", Org + "/gpu-bench"} {
		if err := s.SetPermission("maintainer", repo, ghsim.PermMaintain); err != nil {
			return fmt.Errorf("demo permission: %w", err)
		}
		if err := s.SetPermission("visitor", repo, ghsim.PermRead); err != nil {
			return fmt.Errorf("demo permission: %w", err)
		}
	}
	for _, f := range fleet {
		for i := 1; i <= f.count; i++ {
			_, err := s.AddRunner(ghsim.Runner{
				Name: fmt.Sprintf("%s-%02d", f.prefix, i), Scope: "org:" + Org,
				Labels: f.labels, Online: f.online,
				Ephemeral: f.ephemeral, Replace: f.ephemeral, ReplaceAfter: 5 * time.Second,
			})
			if err != nil {
				return fmt.Errorf("demo runner: %w", err)
			}
		}
	}
	return nil
}

// Close stops the simulator.
func (w *World) Close() { w.Sim.Close() }

// Serve runs the simulator's HTTP server on addr until ctx ends.
func (w *World) Serve(ctx context.Context, addr string) error {
	return w.Sim.ListenAndServe(ctx, addr)
}
