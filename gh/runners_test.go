package gh_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestListRunnersFollowsEveryPage(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const orgRunners = 250
	for i := range orgRunners {
		if _, err := w.sim.AddRunner(ghsim.Runner{
			Name: fmt.Sprintf("r-%03d", i), Scope: "org:acme", Labels: []string{"self-hosted", "Linux", "Sync"},
			Ephemeral: i%2 == 0, Online: i%5 != 0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.sim.AddRunner(ghsim.Runner{Name: "repo-runner", Scope: "repo:acme/app", Labels: []string{"self-hosted", "gpu"}, Online: true}); err != nil {
		t.Fatal(err)
	}

	runners, err := w.client.ListRunners(ctxT(t), w.inst, "org:acme")
	if err != nil {
		t.Fatalf("list org runners: %v", err)
	}
	if len(runners) != orgRunners {
		t.Fatalf("got %d runners, want %d", len(runners), orgRunners)
	}
	seen := map[string]bool{}
	for i, r := range runners {
		seen[r.Name] = true
		want := fmt.Sprintf("r-%03d", i)
		if r.Name != want {
			t.Fatalf("runner %d is %q, want %q (order kept across pages)", i, r.Name, want)
		}
		if r.Ephemeral != (i%2 == 0) {
			t.Errorf("%s ephemeral = %v, want %v", r.Name, r.Ephemeral, i%2 == 0)
		}
		wantStatus := core.RunnerOnline
		if i%5 == 0 {
			wantStatus = core.RunnerOffline
		}
		if r.Status != wantStatus || r.Scope != "org:acme" || r.Busy {
			t.Errorf("%s = %+v, want status %s, scope org:acme, idle", r.Name, r, wantStatus)
		}
		if !slices.Equal(r.Labels, []string{"self-hosted", "linux", "sync"}) {
			t.Errorf("%s labels = %v, want normalised [self-hosted linux sync]", r.Name, r.Labels)
		}
	}
	if len(seen) != orgRunners {
		t.Errorf("pages overlapped: %d distinct runners", len(seen))
	}
	pages := w.requests(http.MethodGet, "/orgs/acme/actions/runners")
	if len(pages) != 3 {
		t.Errorf("want 3 pages of 100, got %d requests", len(pages))
	}
	for _, p := range pages {
		if p.Query.Get("per_page") != "100" {
			t.Errorf("page requested with per_page=%q, want 100", p.Query.Get("per_page"))
		}
	}

	repoRunners, err := w.client.ListRunners(ctxT(t), w.inst, "repo:acme/app")
	if err != nil {
		t.Fatalf("list repo runners: %v", err)
	}
	if len(repoRunners) != 1 || repoRunners[0].Name != "repo-runner" || repoRunners[0].Scope != "repo:acme/app" {
		t.Errorf("repo runners = %+v, want only repo-runner in scope repo:acme/app", repoRunners)
	}
}

func TestListRunnersRejectsBadScopes(t *testing.T) {
	w := newWorld(t, worldOpts{})
	for _, scope := range []string{"", "acme", "org:", "repo:acme", "repo:acme/", "team:acme", "org:a/b", "repo:../x/y"} {
		t.Run(scope, func(t *testing.T) {
			if _, err := w.client.ListRunners(ctxT(t), w.inst, scope); !gh.IsPermanent(err) {
				t.Errorf("scope %q: want a permanent error, got %v", scope, err)
			}
		})
	}
}

func TestListRunnersOfAnotherOrgIsPermanent(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.sim.AddOrg("other")
	_, err := w.client.ListRunners(ctxT(t), w.inst, "org:other")
	if !gh.IsPermanent(err) {
		t.Errorf("want a permanent 404, got %v", err)
	}
}
