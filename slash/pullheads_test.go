package slash_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/slash"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// ghHeads answers gh.PullHead values from a map "owner/repo#n".
type ghHeads map[string]gh.PullHead

var errNoPull = errors.New("GET /repos/{owner}/{repo}/pulls/{pull_number}: 404: Not Found")

func (f ghHeads) PullRequestHead(_ context.Context, _ int64, owner, repo string, n int) (gh.PullHead, error) {
	h, ok := f[fmt.Sprintf("%s/%s#%d", owner, repo, n)]
	if !ok {
		return gh.PullHead{}, errNoPull
	}
	return h, nil
}

func TestPullRequestsFromAdaptsGitHubHeads(t *testing.T) {
	prs := slash.PullRequestsFrom(ghHeads{
		"acme/infra#1": {Owner: "acme", Repo: "infra", Ref: "feature/x", SHA: "abc"},
		"acme/infra#2": {Owner: "mallory", Repo: "infra", Ref: "main", SHA: "def"},
		"acme/infra#3": {Ref: "fix", SHA: "0ff"}, // head.repo null: the fork was deleted
	})
	for _, tc := range []struct {
		name    string
		n       int
		want    slash.PullHead
		wantErr string
	}{
		{"a same-repository head keeps owner, repo and branch", 1, slash.PullHead{Owner: "acme", Repo: "infra", Ref: "feature/x"}, ""},
		{"a fork's head names the fork, for the caller to refuse", 2, slash.PullHead{Owner: "mallory", Repo: "infra", Ref: "main"}, ""},
		{"a deleted fork is an error, never an empty repository", 3, slash.PullHead{}, "head repository was deleted"},
		{"GitHub's error comes through unchanged", 4, slash.PullHead{}, errNoPull.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := prs.PullRequestHead(context.Background(), 1, "acme", "infra", tc.n)
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
	if _, err := prs.PullRequestHead(context.Background(), 1, "acme", "infra", 4); !errors.Is(err, errNoPull) {
		t.Errorf("err = %v, want the reader's error itself", err)
	}
	if slash.PullRequestsFrom(nil) != nil {
		t.Error("a nil reader must give nil, so `--ref pr` is refused with a reason")
	}
}

// lateHeads lets a test build the gh client for the world's simulator after
// newWorld has already handed Options.PullRequests to the service.
type lateHeads struct {
	p atomic.Pointer[slash.PullRequests]
}

func (l *lateHeads) PullRequestHead(ctx context.Context, inst int64, owner, repo string, n int) (slash.PullHead, error) {
	p := l.p.Load()
	if p == nil {
		return slash.PullHead{}, errors.New("test: pull request reader not bound yet")
	}
	return (*p).PullRequestHead(ctx, inst, owner, repo, n)
}

func TestRefPRResolvesThroughGitHub(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pr      *ghsim.PullHead // nil: the pull request is first seen in the comment
		onIssue bool
		wantRef string
		refusal string
		reads   int // GET …/pulls/{n} requests expected
	}{
		{name: "a maintainer's --ref pr queues the pull request's head branch",
			pr: &ghsim.PullHead{Ref: "feature/sync-v2"}, wantRef: "feature/sync-v2", reads: 1},
		{name: "a pull request first seen in the comment queues the simulator's default head, patch-12",
			wantRef: "patch-12", reads: 1},
		{name: "a pull request from a fork is refused with where its branch lives",
			pr: &ghsim.PullHead{Owner: "mallory", Repo: "infra", Ref: "main"}, reads: 1,
			refusal: "pull request #12's branch lives in mallory/infra, but template `hive` dispatches in acme/infra"},
		{name: "--ref pr on an issue is refused without asking GitHub", onIssue: true,
			refusal: "only works in a pull request's comments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			late := &lateHeads{}
			w := newWorld(t, sqlite(t), worldOptions{prs: late})
			client, err := gh.New(gh.Options{APIURL: w.sim.APIURL(), AppID: w.sim.AppID(), PrivateKey: w.sim.PrivateKeyPEM()})
			if err != nil {
				t.Fatal(err)
			}
			prs := slash.PullRequestsFrom(client)
			late.p.Store(&prs)
			if tc.pr != nil {
				if err := w.sim.AddPullRequest(repo, 12, "Sync v2", *tc.pr); err != nil {
					t.Fatal(err)
				}
			}
			var opts []func(*ghsim.IssueComment)
			if !tc.onIssue {
				opts = append(opts, onPR)
			}
			cid := w.comment("mia", "/dispatch hive --ref pr", opts...)

			reads := w.sim.Requests(func(r ghsim.Request) bool {
				return r.Method == http.MethodGet && strings.Contains(r.Path, "/pulls/")
			})
			if len(reads) != tc.reads {
				t.Fatalf("%d pull request reads, want %d", len(reads), tc.reads)
			}
			for _, r := range reads {
				if !strings.HasSuffix(r.Path, "/repos/acme/infra/pulls/12") || r.Status != http.StatusOK || r.InstallationID != w.inst {
					t.Errorf("read %s answered %d for installation %d", r.Path, r.Status, r.InstallationID)
				}
			}
			jobs := w.jobs()
			if tc.refusal != "" {
				if len(jobs) != 0 {
					t.Errorf("queued %d jobs, want none", len(jobs))
				}
				if body := w.onlyReply().Body; !strings.Contains(body, tc.refusal) {
					t.Errorf("reply lacks %q:\n%s", tc.refusal, body)
				}
				if got := w.reactions(cid); !slices.Contains(got, "confused") {
					t.Errorf("reactions = %v, want confused among them", got)
				}
				return
			}
			if len(jobs) != 1 {
				t.Fatalf("queued %d jobs, want 1; replies: %+v", len(jobs), w.replies())
			}
			if j := jobs[0]; j.Ref != tc.wantRef || j.TemplateID != "hive" || j.CreatedBy != "github:mia" {
				t.Errorf("job ref %q template %s by %s, want ref %q of hive by github:mia", j.Ref, j.TemplateID, j.CreatedBy, tc.wantRef)
			}
			if got := w.reactions(cid); slices.Contains(got, "confused") {
				t.Errorf("reactions = %v, want no confused", got)
			}
		})
	}
}
