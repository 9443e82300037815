package gh_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestPullRequestHead(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := ctxT(t)
	if err := w.sim.AddIssue("acme/app", 1, "flaky sync", false); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.AddIssue("acme/app", 2, "quick fix", true); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.AddPullRequest("acme/app", 3, "named branch", ghsim.PullHead{Ref: "feature/sync-v2"}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.AddPullRequest("acme/app", 4, "from a fork", ghsim.PullHead{Owner: "mallory", Repo: "app-fork", Ref: "main"}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		number int
		want   gh.PullHead // SHA only checked for shape
	}{
		{"a same-repository pull request heads its branch in the base repository", 2,
			gh.PullHead{Owner: "acme", Repo: "app", Ref: "patch-2"}},
		{"a branch name with a slash comes back whole", 3,
			gh.PullHead{Owner: "acme", Repo: "app", Ref: "feature/sync-v2"}},
		{"a fork's head names the fork", 4,
			gh.PullHead{Owner: "mallory", Repo: "app-fork", Ref: "main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.client.PullRequestHead(ctx, w.inst, "acme", "app", tc.number)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.SHA) != 40 {
				t.Errorf("sha %q is not a commit sha", got.SHA)
			}
			got.SHA = ""
			if got != tc.want {
				t.Errorf("head = %+v, want %+v", got, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name        string
		owner, repo string
		number      int
		status      int // 0: refused before sending
	}{
		{"an issue that is not a pull request is a permanent 404", "acme", "app", 1, http.StatusNotFound},
		{"an unknown number is a permanent 404", "acme", "app", 99, http.StatusNotFound},
		{"an unknown repository is a permanent 404", "acme", "elsewhere", 2, http.StatusNotFound},
		{"number zero is refused without a request", "acme", "app", 0, 0},
		{"a path-reshaping owner is refused without a request", "../x", "app", 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := pullReads(w)
			_, err := w.client.PullRequestHead(ctx, w.inst, tc.owner, tc.repo, tc.number)
			if !gh.IsPermanent(err) || gh.IsTransient(err) {
				t.Fatalf("err = %v, want permanent and not transient", err)
			}
			var ae *gh.APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Endpoint != "GET /repos/{owner}/{repo}/pulls/{pull_number}" {
				t.Fatalf("err = %#v, want an APIError %d of the pulls endpoint", err, tc.status)
			}
			sent := pullReads(w) - before
			if (tc.status == 0) != (sent == 0) {
				t.Errorf("%d requests sent", sent)
			}
		})
	}

	t.Run("a 502 is retried and then answered", func(t *testing.T) {
		w.sim.SetFaults(ghsim.Faults{REST5xx: 1, Match: once(http.MethodGet, "/pulls/2")})
		t.Cleanup(func() { w.sim.SetFaults(ghsim.Faults{}) })
		got, err := w.client.PullRequestHead(ctx, w.inst, "acme", "app", 2)
		if err != nil || got.Ref != "patch-2" {
			t.Fatalf("head %+v, err %v", got, err)
		}
		if n := len(w.requests(http.MethodGet, "/pulls/2")); n < 2 {
			t.Errorf("%d requests for pull 2 after a 502, want the retry too", n)
		}
	})

	t.Run("responses are observed under the endpoint template", func(t *testing.T) {
		if !slices.ContainsFunc(w.obs.all(), func(o gh.Observation) bool {
			return o.Endpoint == "GET /repos/{owner}/{repo}/pulls/{pull_number}" && o.InstallationID == w.inst
		}) {
			var eps []string
			for _, o := range w.obs.all() {
				eps = append(eps, o.Endpoint)
			}
			t.Errorf("no observation of the pulls endpoint among %s", strings.Join(eps, ", "))
		}
	})
}

// pullReads counts the simulator's GET requests for any pull request.
func pullReads(w *world) int {
	return len(w.sim.Requests(func(r ghsim.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.Path, "/pulls/")
	}))
}

// GitHub sends head.repo as null once a fork is deleted, although the
// description marks it required; the simulator never does, so this uses
// the fake.
func TestPullRequestHeadOfDeletedForkHasNoRepository(t *testing.T) {
	const sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	for _, tc := range []struct {
		name    string
		head    map[string]any
		want    gh.PullHead
		wantErr string
	}{
		{"a deleted fork leaves the ref and sha but no repository",
			map[string]any{"label": "mallory:fix", "ref": "fix", "sha": sha, "repo": nil, "user": nil},
			gh.PullHead{Ref: "fix", SHA: sha}, ""},
		{"a head without a ref is an error, not the default branch",
			map[string]any{"sha": sha, "repo": nil},
			gh.PullHead{}, "answered without head.ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewEncoder(w).Encode(map[string]any{"number": 5, "state": "open", "head": tc.head})
			})
			got, err := f.client(t, gh.Options{}).PullRequestHead(ctxT(t), 7, "acme", "app", 5)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("head = %+v, err %v; want %+v", got, err, tc.want)
			}
		})
	}
}
