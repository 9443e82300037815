package demo

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

func TestDemoConfigValidatesAndMatchesTheWorld(t *testing.T) {
	w, err := NewWorld(Options{Seed: 7, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	srv := ghsimtest.Serve(w.Sim)
	defer srv.Close()
	creds := NewCredentials()
	cfg, err := w.Config(context.Background(), ConfigOptions{
		Dir: t.TempDir(), Listen: "127.0.0.1:0", PublicURL: "http://127.0.0.1:9090", Creds: creds,
	})
	if err != nil {
		t.Fatal(err)
	}
	groups, templates := cfg.Groups()
	if len(groups) != 2 || len(templates) != len(clients)+2 {
		t.Fatalf("got %d groups and %d templates", len(groups), len(templates))
	}
	if cfg.GitHub.App.ID != w.Sim.AppID() || cfg.GitHub.App.WebhookSecret.Value() != w.Sim.WebhookSecret() {
		t.Fatal("demo config does not carry the simulator's App credentials")
	}
	users := cfg.Auth.Basic.Users
	if len(users) != 2 || users[0].Password.Value() != creds.AdminPassword || users[1].Role != "readonly" {
		t.Fatalf("users not generated as expected: %+v", users)
	}
	// Every runner label set the groups ask for exists in the fleet, so the
	// demo can actually dispatch.
	for _, g := range groups {
		found := false
		for _, r := range w.Sim.Runners() {
			if r.Online && core.HasLabels(r.Labels, g.RunnerLabels) {
				found = true
			}
		}
		if !found {
			t.Errorf("group %s has no online runner in the demo fleet", g.ID)
		}
	}
}

func TestCredentialsAreRandom(t *testing.T) {
	a, b := NewCredentials(), NewCredentials()
	if a.AdminPassword == b.AdminPassword || len(a.AdminPassword) < 16 {
		t.Fatalf("weak or repeated passwords: %q %q", a.AdminPassword, b.AdminPassword)
	}
}

// Two demos started with the same seed share no secret: a webhook signed
// with a guessable secret could enqueue jobs into anyone's demo.
func TestWorldSecretsAreRandom(t *testing.T) {
	a, err := NewWorld(Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Sim.Close)
	b, err := NewWorld(Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Sim.Close)
	for name, pair := range map[string][2]string{
		"webhook secret":      {a.Sim.WebhookSecret(), b.Sim.WebhookSecret()},
		"OAuth client secret": {a.Sim.ClientSecret(), b.Sim.ClientSecret()},
	} {
		if pair[0] == pair[1] || len(pair[0]) < 16 {
			t.Errorf("%s is guessable or repeated: %q %q", name, pair[0], pair[1])
		}
	}
}
