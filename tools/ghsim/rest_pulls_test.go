package ghsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestGetPullRequest(t *testing.T) {
	w := newTestWorld(t, Options{})
	s := w.sim
	if err := s.AddIssue("acme/infra", 1, "Nightly", false); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIssue("acme/infra", 2, "Same-repo change", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendIssueComment(IssueComment{Repo: "acme/infra", Issue: 3, IsPR: true, User: "alice", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPullRequest("acme/infra", 4, "Named branch", PullHead{Ref: "feature/x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPullRequest("acme/infra", 5, "From a fork", PullHead{Owner: "mallory", Repo: "infra-fork", Ref: "main"}); err != nil {
		t.Fatal(err)
	}
	tok := w.token(t, w.ins)

	for _, tc := range []struct {
		name           string
		number         int
		headRepo, ref  string
		fork           bool
		dispatchableAt string // the head ref a dispatch in acme/infra accepts; "" for forks
	}{
		{name: "AddIssue pull request heads patch-N of the same repository", number: 2,
			headRepo: "acme/infra", ref: "patch-2", dispatchableAt: "patch-2"},
		{name: "a pull request first seen in a comment heads patch-N of the same repository", number: 3,
			headRepo: "acme/infra", ref: "patch-3", dispatchableAt: "patch-3"},
		{name: "AddPullRequest chooses the head branch, which becomes dispatchable", number: 4,
			headRepo: "acme/infra", ref: "feature/x", dispatchableAt: "feature/x"},
		{name: "a fork's head lives in the fork", number: 5, headRepo: "mallory/infra-fork", ref: "main", fork: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "GET", fmt.Sprintf("%srepos/acme/infra/pulls/%d", s.APIURL(), tc.number), tok, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			pr := decode[github.PullRequest](t, body)
			h, b := pr.GetHead(), pr.GetBase()
			if pr.GetNumber() != tc.number || pr.GetState() != "open" {
				t.Errorf("number %d state %q, want %d open", pr.GetNumber(), pr.GetState(), tc.number)
			}
			if h.GetRef() != tc.ref || h.GetRepo().GetFullName() != tc.headRepo || h.GetRepo().GetFork() != tc.fork {
				t.Errorf("head = %s in %s (fork %v), want %s in %s (fork %v)", h.GetRef(), h.GetRepo().GetFullName(),
					h.GetRepo().GetFork(), tc.ref, tc.headRepo, tc.fork)
			}
			owner, _, _ := strings.Cut(tc.headRepo, "/")
			if h.GetLabel() != owner+":"+tc.ref || h.GetUser().GetLogin() != owner || len(h.GetSHA()) != 40 {
				t.Errorf("head label %q user %q sha %q", h.GetLabel(), h.GetUser().GetLogin(), h.GetSHA())
			}
			if b.GetRef() != "main" || b.GetRepo().GetFullName() != "acme/infra" || b.GetRepo().GetFork() {
				t.Errorf("base = %s in %s (fork %v), want main in acme/infra", b.GetRef(), b.GetRepo().GetFullName(), b.GetRepo().GetFork())
			}
			if tc.dispatchableAt != "" {
				resp, body := doReq(t, "POST", s.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok,
					dispatchBody(tc.dispatchableAt, map[string]any{"network": "x"}, false))
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("dispatch to the head branch %s: %d %s", tc.dispatchableAt, resp.StatusCode, body)
				}
			}
		})
	}

	other, err := s.AddInstallation(Installation{Account: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	otherTok := w.token(t, other)
	for _, tc := range []struct {
		name, path, auth string
		status           int
	}{
		{"an issue that is not a pull request is 404", "repos/acme/infra/pulls/1", tok, 404},
		{"an unknown number is 404", "repos/acme/infra/pulls/99", tok, 404},
		{"a number that is not a number is 404", "repos/acme/infra/pulls/x", tok, 404},
		{"an unknown repository is 404", "repos/acme/nope/pulls/2", tok, 404},
		{"another installation's token is 404", "repos/acme/infra/pulls/2", otherTok, 404},
		{"a bogus token is 401", "repos/acme/infra/pulls/2", "ghs_bogus", 401},
		{"no token is 401", "repos/acme/infra/pulls/2", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "GET", s.APIURL()+tc.path, tc.auth, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if e := decode[map[string]any](t, body); e["message"] == "" || e["documentation_url"] == nil {
				t.Errorf("error body %s lacks GitHub's fields", body)
			}
		})
	}
}

func TestAddPullRequestRefusesBadInput(t *testing.T) {
	w := newTestWorld(t, Options{})
	for _, tc := range []struct {
		name   string
		repo   string
		number int
		head   PullHead
		want   string
	}{
		{"unknown repository", "acme/nope", 1, PullHead{Ref: "x"}, `no repo "acme/nope"`},
		{"number zero", "acme/infra", 0, PullHead{Ref: "x"}, "a positive number and a head ref are required"},
		{"empty head ref", "acme/infra", 1, PullHead{}, "a positive number and a head ref are required"},
		{"owner without repository", "acme/infra", 1, PullHead{Owner: "mallory", Ref: "x"}, "both the head owner and repo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := w.sim.AddPullRequest(tc.repo, tc.number, "t", tc.head)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
