package ghsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

func TestDispatchErrors(t *testing.T) {
	w := newTestWorld(t, Options{})
	tok := w.token(t, w.ins)
	base := w.sim.APIURL() + "repos/acme/infra/actions/workflows/"
	cases := []struct {
		name     string
		workflow string
		body     any
		status   int
		message  string
	}{
		{"unknown workflow is 404", "nope.yml", dispatchBody("main", nil, false), 404, "Not Found"},
		{"missing ref is 422", "sync.yml", map[string]any{"inputs": map[string]any{"network": "x"}}, 422, `"ref" wasn't supplied`},
		{"unknown ref is 422", "sync.yml", dispatchBody("nope", map[string]any{"network": "x"}, false), 422, "No ref found for: nope"},
		{"undeclared input is 422", "sync.yml", dispatchBody("main", map[string]any{"network": "x", "bogus": "1"}, false), 422, `Unexpected inputs provided: ["bogus"]`},
		{"missing required input is 422", "sync.yml", dispatchBody("main", nil, false), 422, "Required input 'network' not provided"},
		{"unknown body key is 422", "sync.yml", map[string]any{"ref": "main", "inputz": map[string]any{}}, 422, `"inputz" is not a permitted key`},
		{"workflow id by number is accepted", strconv.FormatInt(w.sync.ID, 10), dispatchBody("main", map[string]any{"network": "x"}, false), 204, ""},
		{"branch of refs/heads form is accepted", "sync.yml", dispatchBody("refs/heads/dev", map[string]any{"network": "x"}, false), 204, ""},
		{"tag is accepted", "sync.yml", dispatchBody("v1.0.0", map[string]any{"network": "x"}, false), 204, ""},
		{"return_run_details answers 200 with details", "sync.yml", dispatchBody("main", map[string]any{"network": "x"}, true), 200, "workflow_run_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "POST", base+tc.workflow+"/dispatches", tok, tc.body)
			text := string(body)
			if tc.status >= 400 {
				text, _ = decode[map[string]any](t, body)["message"].(string)
			}
			if resp.StatusCode != tc.status || !strings.Contains(text, tc.message) {
				t.Fatalf("got %d %s, want %d containing %q", resp.StatusCode, body, tc.status, tc.message)
			}
			if tc.status >= 400 {
				e := decode[map[string]any](t, body)
				if e["status"] != strconv.Itoa(tc.status) || e["documentation_url"] == "" {
					t.Fatalf("error body %s", body)
				}
			}
		})
	}
	if n := w.sim.CountDispatches(); n != 4 {
		t.Fatalf("CountDispatches = %d, want the 4 accepted ones", n)
	}
}

func TestGHES319RefusesReturnRunDetails(t *testing.T) {
	w := newTestWorld(t, Options{GHES319: true})
	tok := w.token(t, w.ins)
	url := w.sim.APIURL() + "repos/acme/infra/actions/workflows/sync.yml/dispatches"
	resp, body := doReq(t, "POST", url, tok, dispatchBody("main", map[string]any{"network": "x"}, true))
	if resp.StatusCode != 422 || !strings.Contains(decode[map[string]string](t, body)["message"], `"return_run_details" is not a permitted key`) {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	if len(w.sim.Runs()) != 0 {
		t.Fatal("a refused dispatch created a run")
	}
	if resp, _ := doReq(t, "POST", url, tok, dispatchBody("main", map[string]any{"network": "x"}, false)); resp.StatusCode != 204 {
		t.Fatalf("plain dispatch on GHES: %d", resp.StatusCode)
	}
	if resp.Header.Get("X-GitHub-Enterprise-Version") == "" {
		t.Fatal("GHES mode does not announce its version")
	}
}

func TestRunsInheritRunsOnAndRunNameFromInputs(t *testing.T) {
	w := newTestWorld(t, Options{})
	tok := w.token(t, w.ins)
	doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/label.yml/dispatches", tok,
		dispatchBody("main", map[string]any{"runner": `["self-hosted","gpu"]`}, false))
	j := w.sim.Jobs()[0]
	if strings.Join(j.Labels, ",") != "self-hosted,gpu" {
		t.Fatalf("labels = %v", j.Labels)
	}
	if r := w.sim.Runs()[0]; r.DisplayTitle != `["self-hosted","gpu"]` || r.Actor != "dispatchoor-sim[bot]" {
		t.Fatalf("run = %+v", r)
	}
}

func TestRunsListFilters(t *testing.T) {
	w := newTestWorld(t, Options{})
	tok := w.token(t, w.ins)
	for _, ref := range []string{"main", "dev", "main"} {
		resp, body := doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/sync.yml/dispatches", tok, dispatchBody(ref, map[string]any{"network": "x"}, false))
		if resp.StatusCode != 204 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	doReq(t, "POST", w.sim.APIURL()+"repos/acme/infra/actions/workflows/label.yml/dispatches", tok, dispatchBody("main", nil, false))
	runs := w.sim.Runs()
	// Cancel the first so there is a completed/cancelled run to filter on.
	doReq(t, "POST", fmt.Sprintf("%srepos/acme/infra/actions/runs/%d/cancel", w.sim.APIURL(), runs[0].ID), tok, nil)
	day := runs[0].CreatedAt.Format("2006-01-02")
	from := runs[0].CreatedAt.Add(-time.Minute).Format(time.RFC3339)
	cases := []struct {
		name, path, query string
		want              int
	}{
		{"no filter lists every run", "actions/runs", "", 4},
		{"per workflow by file", "actions/workflows/sync.yml/runs", "", 3},
		{"per workflow by id", fmt.Sprintf("actions/workflows/%d/runs", w.sync.ID), "", 3},
		{"branch", "actions/runs", "branch=dev", 1},
		{"event", "actions/runs", "event=workflow_dispatch", 4},
		{"other event matches nothing", "actions/runs", "event=push", 0},
		{"actor", "actions/runs", "actor=dispatchoor-sim[bot]", 4},
		{"other actor", "actions/runs", "actor=alice", 0},
		{"status queued", "actions/runs", "status=queued", 3},
		{"status completed", "actions/runs", "status=completed", 1},
		{"status as conclusion", "actions/runs", "status=cancelled", 1},
		{"created >=", "actions/runs", "created=" + url.QueryEscape(">="+from), 4},
		{"created <= in the past", "actions/runs", "created=" + url.QueryEscape("<=2001-01-01"), 0},
		{"created range", "actions/runs", "created=" + url.QueryEscape(from+"..*"), 4},
		{"created day", "actions/runs", "created=" + day, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/"+tc.path+"?"+tc.query, tok, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			got := decode[github.WorkflowRuns](t, body)
			if got.GetTotalCount() != tc.want || len(got.WorkflowRuns) != tc.want {
				t.Fatalf("total %d (%d listed), want %d", got.GetTotalCount(), len(got.WorkflowRuns), tc.want)
			}
		})
	}
	resp, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runs?created=yesterday", tok, nil)
	if resp.StatusCode != 422 {
		t.Fatalf("bad created: %d", resp.StatusCode)
	}
}

func TestPagingAndHeaders(t *testing.T) {
	w := newTestWorld(t, Options{})
	for i := range 250 {
		w.sim.AddRunner(Runner{Name: fmt.Sprintf("r%03d", i), Scope: "org:acme", Labels: []string{"self-hosted"}})
	}
	tok := w.token(t, w.ins)
	cases := []struct {
		name      string
		query     string
		wantLen   int
		wantFirst string
		wantRels  []string
	}{
		{"default page size is 30", "", 30, "r000", []string{`rel="next"`, `rel="last"`}},
		{"per_page is capped at 100", "per_page=500", 100, "r000", []string{`page=2&per_page=100>; rel="next"`, `page=3&per_page=100>; rel="last"`}},
		{"last page has no next", "per_page=100&page=3", 50, "r200", []string{`rel="prev"`, `rel="first"`}},
		{"beyond the end is empty", "per_page=100&page=9", 0, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "GET", w.sim.APIURL()+"orgs/acme/actions/runners?"+tc.query, tok, nil)
			got := decode[github.Runners](t, body)
			if got.TotalCount != 250 || len(got.Runners) != tc.wantLen {
				t.Fatalf("total %d len %d", got.TotalCount, len(got.Runners))
			}
			if tc.wantLen > 0 && got.Runners[0].GetName() != tc.wantFirst {
				t.Fatalf("first = %s", got.Runners[0].GetName())
			}
			link := resp.Header.Get("Link")
			for _, rel := range tc.wantRels {
				if !strings.Contains(link, rel) {
					t.Fatalf("Link %q lacks %s", link, rel)
				}
			}
			if strings.Contains(link, `rel="next"`) && strings.Contains(tc.query, "page=3") {
				t.Fatalf("last page links next: %s", link)
			}
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource", "X-GitHub-Request-Id", "ETag"} {
				if resp.Header.Get(h) == "" {
					t.Fatalf("missing %s", h)
				}
			}
		})
	}
	t.Run("If-None-Match with the ETag answers 304", func(t *testing.T) {
		u := w.sim.APIURL() + "orgs/acme/actions/runners"
		resp, _ := doReq(t, "GET", u, tok, nil)
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != http.StatusNotModified {
			t.Fatalf("status %d", r2.StatusCode)
		}
	})
	t.Run("rate limit counts per installation", func(t *testing.T) {
		r1, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runners", tok, nil)
		r2, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runners", tok, nil)
		u1, _ := strconv.Atoi(r1.Header.Get("X-RateLimit-Used"))
		u2, _ := strconv.Atoi(r2.Header.Get("X-RateLimit-Used"))
		if u2 != u1+1 || r2.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(5000-u2) {
			t.Fatalf("used %d then %d, remaining %s", u1, u2, r2.Header.Get("X-RateLimit-Remaining"))
		}
	})
}

// A world faster than real time is given a budget to match, and each hour
// starts with the whole budget again, as GitHub's X-RateLimit-Reset says.
func TestRateLimitWindow(t *testing.T) {
	w := newTestWorld(t, Options{RateLimit: 75000})
	tok := w.token(t, w.ins)
	get := func() (used, remaining int, limit string) {
		r, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runners", tok, nil)
		used, _ = strconv.Atoi(r.Header.Get("X-RateLimit-Used"))
		remaining, _ = strconv.Atoi(r.Header.Get("X-RateLimit-Remaining"))
		return used, remaining, r.Header.Get("X-RateLimit-Limit")
	}
	used, remaining, limit := get()
	if limit != "75000" || used+remaining != 75000 {
		t.Fatalf("limit %s, used %d, remaining %d; want the configured 75000", limit, used, remaining)
	}
	// As if the hour had turned since.
	w.sim.mu.Lock()
	w.sim.rateWindow = w.sim.rateWindow.Add(-time.Hour)
	w.sim.mu.Unlock()
	if used, _, _ := get(); used != 1 {
		t.Fatalf("first request of a new hour counts %d, want 1", used)
	}
}

func TestAppEndpoints(t *testing.T) {
	w := newTestWorld(t, Options{})
	jwt := w.appJWT(t)
	api := w.sim.APIURL()
	cases := []struct {
		name, path string
		status     int
	}{
		{"app", "app", 200},
		{"installations", "app/installations", 200},
		{"installation", "app/installations/" + strconv.FormatInt(w.ins, 10), 200},
		{"repo installation", "repos/acme/infra/installation", 200},
		{"org installation", "orgs/acme/installation", 200},
		{"unknown org installation is 404", "orgs/nobody/installation", 404},
		{"unknown repo installation is 404", "repos/acme/nope/installation", 404},
		{"unknown path is 404", "nope/nope", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "GET", api+tc.path, jwt, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	_, body := doReq(t, "GET", api+"app", jwt, nil)
	if a := decode[github.App](t, body); a.GetID() != w.sim.AppID() || a.GetSlug() != "dispatchoor-sim" {
		t.Fatalf("app = %s", body)
	}
}

func TestCommentsReactionsAndPermissions(t *testing.T) {
	w := newTestWorld(t, Options{})
	tok := w.token(t, w.ins)
	api := w.sim.APIURL() + "repos/acme/infra/"
	if resp, _ := doReq(t, "POST", api+"issues/7/comments", tok, map[string]any{"body": "hi"}); resp.StatusCode != 404 {
		t.Fatalf("comment on unknown issue: %d", resp.StatusCode)
	}
	if err := w.sim.AddIssue("acme/infra", 7, "Flaky", true); err != nil {
		t.Fatal(err)
	}
	resp, body := doReq(t, "POST", api+"issues/7/comments", tok, map[string]any{"body": "queued 3 jobs"})
	if resp.StatusCode != 201 || resp.Header.Get("Location") == "" {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	c := decode[github.IssueComment](t, body)
	if resp, _ := doReq(t, "POST", api+"issues/7/comments", tok, map[string]any{}); resp.StatusCode != 422 {
		t.Fatalf("empty body: %d", resp.StatusCode)
	}
	resp, body = doReq(t, "PATCH", fmt.Sprintf("%sissues/comments/%d", api, c.GetID()), tok, map[string]any{"body": "done"})
	if upd := decode[github.IssueComment](t, body); resp.StatusCode != 200 || upd.GetBody() != "done" {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	userComment, err := w.sim.SendIssueComment(IssueComment{Repo: "acme/infra", Issue: 7, User: "alice", Body: "/dispatch sync"})
	if err != nil {
		t.Fatal(err)
	}
	react := fmt.Sprintf("%sissues/comments/%d/reactions", api, userComment)
	for i, want := range []int{201, 200} {
		if resp, body := doReq(t, "POST", react, tok, map[string]any{"content": "rocket"}); resp.StatusCode != want {
			t.Fatalf("reaction %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if resp, _ := doReq(t, "POST", react, tok, map[string]any{"content": "party"}); resp.StatusCode != 422 {
		t.Fatalf("bad reaction: %d", resp.StatusCode)
	}
	if resp, _ := doReq(t, "PATCH", fmt.Sprintf("%sissues/comments/%d", api, userComment), tok, map[string]any{"body": "x"}); resp.StatusCode != 403 {
		t.Fatalf("editing a user's comment: %d", resp.StatusCode)
	}
	w.sim.AddUser(User{Login: "bob", Perms: map[string]Permission{"acme/infra": PermMaintain}})
	for _, tc := range []struct{ user, legacy, role string }{
		{"alice", "write", "write"}, {"bob", "write", "maintain"}, {"alice", "write", "write"},
	} {
		resp, body := doReq(t, "GET", api+"collaborators/"+tc.user+"/permission", tok, nil)
		p := decode[github.RepositoryPermissionLevel](t, body)
		if resp.StatusCode != 200 || p.GetPermission() != tc.legacy || p.GetRoleName() != tc.role {
			t.Fatalf("%s: %d %s", tc.user, resp.StatusCode, body)
		}
	}
	if resp, _ := doReq(t, "GET", api+"collaborators/ghost/permission", tok, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
}
