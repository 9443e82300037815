package ghsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/conformance"
)

// driveEverything exercises every REST endpoint and every webhook the
// simulator can send, including the error answers the project will meet, so
// the conformance tests can hold each recorded response and delivery to
// GitHub's published descriptions.
func driveEverything(t *testing.T, w testWorld) {
	t.Helper()
	s := w.sim
	api := s.APIURL()
	rc := newReceiver(t, s, "s3cret")
	jwt := w.appJWT(t)
	expect := func(method, path, auth string, body any, status int) []byte {
		t.Helper()
		resp, b := doReq(t, method, api+path, auth, body)
		if resp.StatusCode != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, status)
		}
		return b
	}

	if _, err := s.AddRepo(Repo{Owner: "carol", Name: "tools", Workflows: []*Workflow{{File: "ci.yml", RunsOn: []string{"self-hosted"}}}}); err != nil {
		t.Fatal(err)
	}
	s.AddUser(User{Login: "carol", Name: "Carol", Email: "carol@example.com", Orgs: []string{"acme"}})
	carolIns, err := s.AddInstallation(Installation{Account: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRunner(Runner{Name: "busy-1", Scope: "org:acme", Labels: []string{"self-hosted", "sync"}, Online: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRunner(Runner{Name: "repo-1", Scope: "repo:acme/infra", Labels: []string{"self-hosted", "gpu"}}); err != nil {
		t.Fatal(err)
	}

	// App-authenticated endpoints.
	ins := strconv.FormatInt(w.ins, 10)
	expect("GET", "app", jwt, nil, 200)
	expect("GET", "app/installations?per_page=1", jwt, nil, 200)
	expect("GET", "app/installations/"+ins, jwt, nil, 200)
	expect("GET", "app/installations/999999", jwt, nil, 404)
	expect("GET", "repos/acme/infra/installation", jwt, nil, 200)
	expect("GET", "repos/acme/nope/installation", jwt, nil, 404)
	expect("GET", "orgs/acme/installation", jwt, nil, 200)
	expect("GET", "users/carol/installation", jwt, nil, 200)
	expect("GET", "users/nobody/installation", jwt, nil, 404)
	expect("POST", "app/installations/999999/access_tokens", jwt, nil, 404)
	tok := w.token(t, w.ins)

	// Credential and edge failures every endpoint can answer.
	expect("GET", "app", "not-a-jwt", nil, 401)
	expect("GET", "orgs/acme/actions/runners", "ghs_bogus", nil, 401)
	s.SetFaults(Faults{REST429: 1})
	expect("GET", "app", jwt, nil, 429)
	s.SetFaults(Faults{RESTSecondary: 1})
	expect("GET", "orgs/acme/actions/runners", tok, nil, 403)
	s.SetFaults(Faults{REST5xx: 1})
	expect("GET", "orgs/acme/actions/runners", tok, nil, 502)
	s.SetFaults(Faults{})

	// Actions.
	expect("GET", "orgs/acme/actions/runners?per_page=1", tok, nil, 200)
	expect("GET", "repos/acme/infra/actions/runners", tok, nil, 200)
	expect("GET", "repos/acme/nope/actions/runners", tok, nil, 404)
	wf := "repos/acme/infra/actions/workflows/sync.yml/dispatches"
	// dispatchRun dispatches and returns the new run's id: with
	// return_run_details on github.com, and on GHES 3.19 (which refuses it
	// with 422) by a plain dispatch and the runs list, as a client would.
	dispatchRun := func(path string, body map[string]any) int64 {
		t.Helper()
		if !s.opts.GHES319 {
			body["return_run_details"] = true
			return runIDOf(t, expect("POST", path, tok, body, 200))
		}
		body["return_run_details"] = true
		expect("POST", path, tok, body, 422)
		delete(body, "return_run_details")
		expect("POST", path, tok, body, 204)
		runs := decode[struct {
			WorkflowRuns []struct{ ID int64 } `json:"workflow_runs"`
		}](t, expect("GET", "repos/acme/infra/actions/runs?per_page=1", tok, nil, 200))
		return runs.WorkflowRuns[0].ID
	}
	expect("POST", wf, tok, dispatchBody("main", map[string]any{"network": "hoodi"}, false), 204)
	first := dispatchRun(wf, dispatchBody("dev", map[string]any{"network": "hoodi"}, false))
	expect("POST", "repos/acme/infra/actions/workflows/nope.yml/dispatches", tok, dispatchBody("main", nil, false), 404)
	expect("POST", wf, tok, dispatchBody("nope", map[string]any{"network": "x"}, false), 422)
	expect("POST", wf, tok, dispatchBody("main", map[string]any{"network": "x", "bogus": 1}, false), 422)
	eventually(t, 5*time.Second, "a run to complete", func() bool {
		for _, r := range s.Runs() {
			if r.Status == StatusCompleted {
				return true
			}
		}
		return false
	})
	run := fmt.Sprintf("repos/acme/infra/actions/runs/%d", first)
	expect("GET", "repos/acme/infra/actions/runs?per_page=1", tok, nil, 200)
	expect("GET", "repos/acme/infra/actions/runs?status=completed&created="+url.QueryEscape(">=2000-01-01"), tok, nil, 200)
	expect("GET", "repos/acme/infra/actions/workflows/sync.yml/runs?branch=dev", tok, nil, 200)
	expect("GET", run, tok, nil, 200)
	expect("GET", run+"/jobs", tok, nil, 200)
	expect("GET", "repos/acme/infra/actions/runs/1", tok, nil, 404)
	queued := dispatchRun("repos/acme/infra/actions/workflows/label.yml/dispatches", dispatchBody("main", map[string]any{"runner": "gpu"}, false))
	expect("GET", fmt.Sprintf("repos/acme/infra/actions/runs/%d", queued), tok, nil, 200)
	expect("GET", fmt.Sprintf("repos/acme/infra/actions/runs/%d/jobs", queued), tok, nil, 200)
	expect("POST", fmt.Sprintf("repos/acme/infra/actions/runs/%d/cancel", queued), tok, nil, 202)
	expect("POST", fmt.Sprintf("repos/acme/infra/actions/runs/%d/cancel", queued), tok, nil, 409)

	// Issues, reactions, permissions.
	if err := s.AddIssue("acme/infra", 1, "Nightly", false); err != nil {
		t.Fatal(err)
	}
	cm := decode[struct{ ID int64 }](t, expect("POST", "repos/acme/infra/issues/1/comments", tok, map[string]any{"body": "queued"}, 201))
	expect("POST", "repos/acme/infra/issues/404/comments", tok, map[string]any{"body": "x"}, 404)
	expect("POST", "repos/acme/infra/issues/1/comments", tok, map[string]any{}, 422)
	expect("PATCH", fmt.Sprintf("repos/acme/infra/issues/comments/%d", cm.ID), tok, map[string]any{"body": "done"}, 200)
	expect("PATCH", "repos/acme/infra/issues/comments/1", tok, map[string]any{"body": "done"}, 404)
	issueComment, err := s.SendIssueComment(IssueComment{Repo: "acme/infra", Issue: 1, User: "alice", Body: "/dispatch sync"})
	if err != nil {
		t.Fatal(err)
	}
	react := fmt.Sprintf("repos/acme/infra/issues/comments/%d/reactions", issueComment)
	expect("POST", react, tok, map[string]any{"content": "eyes"}, 201)
	expect("POST", react, tok, map[string]any{"content": "eyes"}, 200)
	expect("POST", react, tok, map[string]any{"content": "nope"}, 422)
	expect("GET", "repos/acme/infra/collaborators/alice/permission", tok, nil, 200)
	expect("GET", "repos/acme/infra/collaborators/ghost/permission", tok, nil, 404)

	// Pull requests: a same-repository head, a fork outside the simulator,
	// a fork that is another simulated repository; an issue and an unknown
	// number are 404.
	if err := s.AddIssue("acme/infra", 20, "Same-repo change", true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPullRequest("acme/infra", 21, "From a fork", PullHead{Owner: "mallory", Repo: "infra", Ref: "fix/sync"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPullRequest("acme/infra", 22, "From carol", PullHead{Owner: "carol", Repo: "tools", Ref: "main"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{20, 21, 22} {
		expect("GET", fmt.Sprintf("repos/acme/infra/pulls/%d", n), tok, nil, 200)
	}
	expect("GET", "repos/acme/infra/pulls/1", tok, nil, 404)
	expect("GET", "repos/acme/infra/pulls/404", tok, nil, 404)

	// Webhook deliveries API (after the sender has caught up).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	list := decode[[]struct{ ID int64 }](t, expect("GET", "app/hook/deliveries?per_page=2", jwt, nil, 200))
	expect("GET", fmt.Sprintf("app/hook/deliveries/%d", list[0].ID), jwt, nil, 200)
	expect("GET", "app/hook/deliveries/1", jwt, nil, 404)
	expect("POST", fmt.Sprintf("app/hook/deliveries/%d/attempts", list[0].ID), jwt, nil, 202)

	// Every webhook kind the simulator can send.
	if _, err := s.SendIssueComment(IssueComment{Action: "edited", CommentID: issueComment, Body: "/dispatch sync x2", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	prComment, err := s.SendIssueComment(IssueComment{Repo: "acme/infra", Issue: 2, IsPR: true, User: "alice", Body: "/dispatch"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendIssueComment(IssueComment{Action: "deleted", CommentID: prComment, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRepo(Repo{Owner: "acme", Name: "extra"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendInstallationRepositories(w.ins, []string{"acme/extra"}, nil, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.SendInstallationRepositories(w.ins, nil, []string{"acme/extra"}, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"suspend", "unsuspend", "new_permissions_accepted", "created"} {
		if err := s.SendInstallation(a, w.ins, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SendInstallation("deleted", carolIns, "carol"); err != nil {
		t.Fatal(err)
	}
	s.SendPing()

	// Manifest flow and OAuth, through the web routes.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"manifest": {`{"name":"My Dispatchoor","url":"http://localhost:9090","redirect_url":"http://localhost:9090/api/v1/setup/callback","hook_attributes":{"url":"http://localhost:9090/webhooks"}}`}}
	resp, err := noRedirect.PostForm(s.BaseURL()+"/organizations/acme/settings/apps/new?state=xyz", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("manifest form: %d %s", resp.StatusCode, loc)
	}
	code := loc.Query().Get("code")
	expect("POST", "app-manifests/"+code+"/conversions", "", nil, 201)
	expect("POST", "app-manifests/"+code+"/conversions", "", nil, 404)

	s.SetOAuthUser("carol")
	resp, err = noRedirect.Get(s.BaseURL() + "/login/oauth/authorize?client_id=" + s.ClientID() + "&redirect_uri=" + url.QueryEscape("http://localhost:9090/auth/callback") + "&state=st")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("state") != "st" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, loc)
	}
	req, _ := http.NewRequest("POST", s.BaseURL()+"/login/oauth/access_token", strings.NewReader(url.Values{
		"client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}, "code": {loc.Query().Get("code")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	userTok := decode[struct {
		AccessToken string `json:"access_token"`
	}](t, b).AccessToken
	if userTok == "" {
		t.Fatalf("access_token: %s", b)
	}
	expect("GET", "user", userTok, nil, 200)
	expect("GET", "user/orgs?per_page=1", userTok, nil, 200)

	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rc.events()) == 0 {
		t.Fatal("no webhooks arrived")
	}
}

func checkConformance(t *testing.T, spec conformance.Spec, opts Options) {
	v := conformance.New(t)
	w := newTestWorld(t, opts)
	driveEverything(t, w)
	kinds := map[string]bool{}
	for _, d := range w.sim.Deliveries() {
		kinds[d.Event+"."+d.Action] = true
		if err := v.Webhook(d.Event, d.Payload); err != nil {
			t.Errorf("delivery %d: %v", d.ID, err)
		}
	}
	for _, want := range []string{"workflow_run.requested", "workflow_run.in_progress", "workflow_run.completed",
		"workflow_job.queued", "workflow_job.in_progress", "workflow_job.completed", "issue_comment.created",
		"issue_comment.edited", "issue_comment.deleted", "installation.created", "installation.deleted", "installation.suspend",
		"installation.unsuspend", "installation.new_permissions_accepted", "installation_repositories.added",
		"installation_repositories.removed", "ping."} {
		if !kinds[want] {
			t.Errorf("scenario never sent %s", want)
		}
	}
	checked := 0
	for _, r := range w.sim.Requests(nil) {
		checked++
		checkREST(t, v, spec, r)
	}
	if checked < 40 {
		t.Fatalf("only %d responses checked", checked)
	}
}

func TestConformanceAPIGitHubCom(t *testing.T) {
	checkConformance(t, conformance.APIGitHubCom, Options{Speed: 200})
}

func TestConformanceGHES319(t *testing.T) {
	checkConformance(t, conformance.GHES319, Options{Speed: 200, GHES319: true})
}

// checkREST validates one recorded response. GitHub's description leaves
// many error statuses undocumented per operation (GHES 3.19 lists only 204
// for a dispatch, yet answers 422); for those the error body is held to the
// shape every GitHub error has instead.
func checkREST(t *testing.T, v *conformance.Validator, spec conformance.Spec, r Request) {
	t.Helper()
	err := v.REST(spec, r.Method, r.Path, r.Status, r.ResponseBody)
	var mm *conformance.Mismatch
	if err == nil {
		return
	}
	if r.Status >= 400 && errors.As(err, &mm) && len(mm.Problems) == 1 && strings.Contains(mm.Problems[0], "not documented") {
		e := decode[map[string]any](t, r.ResponseBody)
		msg, _ := e["message"].(string)
		doc, _ := e["documentation_url"].(string)
		st, _ := e["status"].(string)
		if msg == "" || !strings.HasPrefix(doc, "https://docs.github.com/") || st != strconv.Itoa(r.Status) {
			t.Errorf("%s %s %d: error body %s lacks message/documentation_url/status", r.Method, r.Path, r.Status, r.ResponseBody)
		}
		t.Logf("%s %s %d is undocumented in %s; checked the generic error shape", r.Method, r.Path, r.Status, spec)
		return
	}
	for _, d := range knownSpecDefects {
		if r.Method == d.method && strings.HasSuffix(r.Path, d.path) && slices.Contains(d.specs, spec) && errors.As(err, &mm) && slices.Equal(mm.Problems, d.problems) {
			t.Logf("%s %s: known defect of the description: %s", r.Method, r.Path, d.why)
			return
		}
	}
	t.Errorf("%v", err)
}

// knownSpecDefects are places where GitHub's published description cannot
// be satisfied by GitHub's own responses. Each is matched exactly, so any
// other problem in the same response still fails.
var knownSpecDefects = []struct {
	specs    []conformance.Spec
	method   string
	path     string
	problems []string
	why      string
}{{
	specs: []conformance.Spec{conformance.APIGitHubCom, conformance.GHES319}, method: "GET", path: "/app/installations",
	problems: []string{"/0/account: must be null", "/0/account: must have required property 'name'", "/0/account: must match a schema in anyOf"},
	why: "the list operation inlines installation.account as allOf[simple-user, enterprise] (GET /app/installations/{id} has anyOf), " +
		"so only an account that is both a user and an enterprise would pass; GitHub sends a simple-user",
}}

func TestExamplesParse(t *testing.T) {
	// The corpus the later issues replay must be present for the events the
	// simulator models.
	for _, ev := range []string{"workflow_job", "workflow_run", "issue_comment", "installation", "installation_repositories", "ping"} {
		if len(conformance.Examples(t, ev)) == 0 {
			t.Errorf("no @octokit/webhooks-examples payloads for %s", ev)
		}
	}
}
