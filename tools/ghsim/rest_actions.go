package ghsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// repo resolves {owner}/{repo} for the installation token in use. A repo the
// installation does not cover is a 404, exactly like one that does not exist:
// GitHub never confirms private repositories to outsiders. Callers hold s.mu.
func (c *call) repo(doc string) *Repo {
	r := c.s.repos[strings.ToLower(c.r.PathValue("owner")+"/"+c.r.PathValue("repo"))]
	if r == nil || !c.ins.covers(r) {
		c.fail(http.StatusNotFound, "Not Found", doc)
		return nil
	}
	return r
}

func (c *call) listOrgRunners() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	org := c.r.PathValue("org")
	if !strings.EqualFold(c.ins.Account, org) || s.orgs[strings.ToLower(org)] == nil {
		c.fail(http.StatusNotFound, "Not Found", "/actions/self-hosted-runners#list-self-hosted-runners-for-an-organization")
		return
	}
	c.runners("org:" + org)
}

func (c *call) listRepoRunners() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r := c.repo("/actions/self-hosted-runners#list-self-hosted-runners-for-a-repository")
	if r == nil {
		return
	}
	c.runners("repo:" + r.FullName())
}

func (c *call) runners(scope string) {
	var all []obj
	name := c.r.URL.Query().Get("name")
	for _, r := range c.s.runners {
		if strings.EqualFold(r.Scope, scope) && (name == "" || r.Name == name) {
			all = append(all, c.s.runnerJSON(r))
		}
	}
	total := len(all)
	c.json(http.StatusOK, obj{"total_count": total, "runners": paginate(c, all)})
}

// dispatchRequest is the body of a workflow dispatch.
type dispatchRequest struct {
	Ref              *string         `json:"ref"`
	Inputs           map[string]any  `json:"inputs"`
	ReturnRunDetails json.RawMessage `json:"return_run_details"`
}

func (c *call) dispatch() {
	const doc = "/actions/workflows#create-a-workflow-dispatch-event"
	s := c.s
	var raw map[string]json.RawMessage
	if !c.decode(&raw) {
		return
	}
	for k := range raw {
		if k != "ref" && k != "inputs" && (k != "return_run_details" || s.opts.GHES319) {
			// GHES before 3.20 validates the body against a schema without
			// return_run_details, and GitHub refuses unknown keys this way.
			c.fail(http.StatusUnprocessableEntity, fmt.Sprintf("Invalid request.\n\n%q is not a permitted key.", k), doc)
			return
		}
	}
	var req dispatchRequest
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &req); err != nil {
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/inputs', "+err.Error()+".", doc)
		return
	}
	wantDetails := false
	if len(req.ReturnRunDetails) > 0 {
		if err := json.Unmarshal(req.ReturnRunDetails, &wantDetails); err != nil {
			c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/return_run_details', "+string(req.ReturnRunDetails)+" is not a boolean.", doc)
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	w := findWorkflow(repo, c.r.PathValue("workflow_id"))
	if w == nil {
		c.fail(http.StatusNotFound, "Not Found", doc)
		return
	}
	if req.Ref == nil {
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.", doc)
		return
	}
	ref, ok := resolveRef(repo, *req.Ref)
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "No ref found for: "+*req.Ref, doc)
		return
	}
	inputs, msg := checkInputs(w, req.Inputs)
	if msg != "" {
		c.fail(http.StatusUnprocessableEntity, msg, doc)
		return
	}
	labels := w.RunsOn
	if w.RunsOnInput != "" {
		if v, ok := inputs[w.RunsOnInput]; ok {
			labels = parseLabels(fmt.Sprint(v))
		}
	}
	run := s.startRun(repo, w, c.ins, ref, s.apps[c.ins.AppID].Slug+"[bot]", inputs, slices.Clone(labels))
	if !wantDetails {
		c.noContent(http.StatusNoContent)
		return
	}
	c.json(http.StatusOK, obj{
		"workflow_run_id": run.ID,
		"run_url":         s.api("/repos/%s/actions/runs/%d", run.Repo, run.ID),
		"html_url":        s.web("/%s/actions/runs/%d", run.Repo, run.ID),
	})
}

func findWorkflow(r *Repo, id string) *Workflow {
	for _, w := range r.Workflows {
		if strconv.FormatInt(w.ID, 10) == id || w.File == id || ".github/workflows/"+w.File == id {
			return w
		}
	}
	return nil
}

// resolveRef accepts a branch or tag name, or its refs/heads/ / refs/tags/
// form, and returns the short name.
func resolveRef(r *Repo, ref string) (string, bool) {
	short := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	if short == "" {
		return "", false
	}
	if short == r.DefaultBranch || slices.Contains(r.Branches, short) || slices.Contains(r.Tags, short) {
		return short, true
	}
	return "", false
}

// checkInputs refuses undeclared inputs and missing required ones with
// GitHub's messages, and fills in declared defaults.
func checkInputs(w *Workflow, given map[string]any) (map[string]any, string) {
	var unexpected []string
	for k := range given {
		if !slices.ContainsFunc(w.Inputs, func(in WorkflowInput) bool { return in.Name == k }) {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		b, _ := json.Marshal(unexpected)
		return nil, "Unexpected inputs provided: " + string(b)
	}
	out := map[string]any{}
	for _, in := range w.Inputs {
		v, ok := given[in.Name]
		switch {
		case ok:
			out[in.Name] = v
		case in.Required && in.Default == "":
			return nil, fmt.Sprintf("Required input '%s' not provided", in.Name)
		case in.Default != "":
			out[in.Name] = in.Default
		}
	}
	return out, ""
}

// parseLabels reads a runs-on value given as an input: one label, a
// comma-separated list, or a JSON array.
func parseLabels(v string) []string {
	v = strings.TrimSpace(v)
	var arr []string
	if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &arr) == nil {
		return arr
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// listRuns serves both the repository and the per-workflow runs list, newest
// first, with GitHub's filters.
func (c *call) listRuns() {
	const doc = "/actions/workflow-runs#list-workflow-runs-for-a-repository"
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	var wf *Workflow
	if id := c.r.PathValue("workflow_id"); id != "" {
		if wf = findWorkflow(repo, id); wf == nil {
			c.fail(http.StatusNotFound, "Not Found", "/actions/workflow-runs#list-workflow-runs-for-a-workflow")
			return
		}
	}
	q := c.r.URL.Query()
	created, err := parseCreated(q.Get("created"))
	if err != nil {
		c.fail(http.StatusUnprocessableEntity, "Validation Failed", doc)
		return
	}
	var all []obj
	for i := len(s.runOrder) - 1; i >= 0; i-- {
		run := s.runs[s.runOrder[i]]
		if !strings.EqualFold(run.Repo, repo.FullName()) || (wf != nil && run.WorkflowID != wf.ID) {
			continue
		}
		if !matchRun(run, q.Get("event"), q.Get("actor"), q.Get("branch"), q.Get("status"), q.Get("head_sha")) || !created(run.CreatedAt) {
			continue
		}
		all = append(all, s.runJSON(run))
	}
	total := len(all)
	c.json(http.StatusOK, obj{"total_count": total, "workflow_runs": paginate(c, all)})
}

// matchRun applies the runs-list filters; status also accepts a conclusion,
// as GitHub's does.
func matchRun(run *Run, event, actor, branch, status, headSHA string) bool {
	switch {
	case event != "" && run.Event != event,
		actor != "" && !strings.EqualFold(run.Actor, actor),
		branch != "" && run.HeadBranch != branch,
		headSHA != "" && run.HeadSHA != headSHA:
		return false
	case status == "":
		return true
	case status == StatusQueued || status == StatusInProgress || status == StatusCompleted ||
		status == StatusRequested || status == "waiting" || status == "pending":
		return run.Status == status
	}
	return run.Conclusion == status
}

// parseCreated parses GitHub's search date syntax: DATE, >DATE, >=DATE,
// <DATE, <=DATE and FROM..TO (either end may be *). Dates are YYYY-MM-DD or
// RFC 3339.
func parseCreated(v string) (func(time.Time) bool, error) {
	if v == "" {
		return func(time.Time) bool { return true }, nil
	}
	if from, to, ok := strings.Cut(v, ".."); ok {
		lo, err := parseBound(from, false)
		if err != nil {
			return nil, err
		}
		hi, err := parseBound(to, true)
		if err != nil {
			return nil, err
		}
		return func(t time.Time) bool { return !t.Before(lo) && !t.After(hi) }, nil
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(v, op); ok {
			t, err := parseBound(rest, op[0] == '<')
			if err != nil {
				return nil, err
			}
			switch op {
			case ">=":
				return func(x time.Time) bool { return !x.Before(t) }, nil
			case "<=":
				return func(x time.Time) bool { return !x.After(t) }, nil
			case ">":
				return func(x time.Time) bool { return x.After(t) }, nil
			default:
				return func(x time.Time) bool { return x.Before(t) }, nil
			}
		}
	}
	lo, err := parseBound(v, false)
	if err != nil {
		return nil, err
	}
	hi, err := parseBound(v, true)
	if err != nil {
		return nil, err
	}
	return func(t time.Time) bool { return !t.Before(lo) && !t.After(hi) }, nil
}

// parseBound parses one date; a bare day used as an upper bound means the
// end of that day. "*" is unbounded.
func parseBound(v string, upper bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "*" {
		if upper {
			return time.Unix(1<<40, 0), nil
		}
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse created date %q: %w", v, err)
	}
	if upper {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

func (c *call) runFromPath(doc string) (*Repo, *Run) {
	repo := c.repo(doc)
	if repo == nil {
		return nil, nil
	}
	id, _ := strconv.ParseInt(c.r.PathValue("run_id"), 10, 64)
	run := c.s.runs[id]
	if run == nil || !strings.EqualFold(run.Repo, repo.FullName()) {
		c.fail(http.StatusNotFound, "Not Found", doc)
		return nil, nil
	}
	return repo, run
}

func (c *call) getRun() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if _, run := c.runFromPath("/actions/workflow-runs#get-a-workflow-run"); run != nil {
		c.json(http.StatusOK, c.s.runJSON(run))
	}
}

func (c *call) cancelRun() {
	const doc = "/actions/workflow-runs#cancel-a-workflow-run"
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	_, run := c.runFromPath(doc)
	if run == nil {
		return
	}
	if !c.s.cancelRun(run) {
		c.fail(http.StatusConflict, "Cannot cancel a workflow run that is completed.", doc)
		return
	}
	c.json(http.StatusAccepted, obj{})
}

func (c *call) listJobs() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	_, run := c.runFromPath("/actions/workflow-jobs#list-jobs-for-a-workflow-run")
	if run == nil {
		return
	}
	var all []obj
	for _, id := range run.Jobs {
		all = append(all, s.jobJSON(s.jobs[id]))
	}
	total := len(all)
	c.json(http.StatusOK, obj{"total_count": total, "jobs": paginate(c, all)})
}
