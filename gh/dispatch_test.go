package gh_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func dispatchReq(w *world) gh.DispatchRequest {
	return gh.DispatchRequest{
		InstallationID: w.inst, Owner: "acme", Repo: "app", WorkflowID: "sync.yml", Ref: "main",
		Inputs: map[string]string{"target": "hoodi", "dispatchoor_job_id": "job-42"},
	}
}

func TestDispatchReturnsRunDetails(t *testing.T) {
	w := newWorld(t, worldOpts{})
	res, err := w.client.Dispatch(ctxT(t), dispatchReq(w))
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	if !res.HasRunDetails || res.RunID == 0 || res.HTMLURL == "" || res.RunURL == "" {
		t.Fatalf("want run details, got %+v", res)
	}
	run, ok := w.sim.GetRun(res.RunID)
	if !ok {
		t.Fatalf("run %d does not exist in the simulator", res.RunID)
	}
	if run.DisplayTitle != "job-42" || run.HeadBranch != "main" {
		t.Errorf("run = %+v, want display title job-42 on main", run)
	}
	reqs := w.requests(http.MethodPost, "/dispatches")
	if len(reqs) != 1 {
		t.Fatalf("want 1 dispatch request, got %d", len(reqs))
	}
	b := body(t, reqs[0])
	if b["return_run_details"] != true {
		t.Errorf("return_run_details = %v, want true", b["return_run_details"])
	}
	inputs, _ := b["inputs"].(map[string]any)
	if inputs["target"] != "hoodi" || inputs["dispatchoor_job_id"] != "job-42" {
		t.Errorf("inputs on the wire = %v, want the strings given", inputs)
	}
	if reqs[0].InstallationID != w.inst {
		t.Errorf("dispatch authenticated as installation %d, want %d", reqs[0].InstallationID, w.inst)
	}
}

func TestDispatchGHES319FallsBackOncePerHost(t *testing.T) {
	w := newWorld(t, worldOpts{sim: ghsim.Options{GHES319: true}})
	for i := range 2 {
		res, err := w.client.Dispatch(ctxT(t), dispatchReq(w))
		if err != nil {
			t.Fatalf("dispatch %d: %v", i, err)
		}
		if res.HasRunDetails || res.RunID != 0 {
			t.Fatalf("dispatch %d: GHES 3.19 gives no run details, got %+v", i, res)
		}
	}
	reqs := w.requests(http.MethodPost, "/dispatches")
	// First dispatch: refused with the key, then accepted without it.
	// Second dispatch: sent without the key straight away.
	if len(reqs) != 3 {
		t.Fatalf("want 3 dispatch requests (refused, retried, remembered), got %v", reqs)
	}
	if reqs[0].Status != http.StatusUnprocessableEntity {
		t.Errorf("first request status = %d, want 422", reqs[0].Status)
	}
	for i, r := range reqs[1:] {
		if _, sent := body(t, r)["return_run_details"]; sent {
			t.Errorf("request %d still sent return_run_details after the host refused it", i+1)
		}
		if r.Status != http.StatusNoContent {
			t.Errorf("request %d status = %d, want 204", i+1, r.Status)
		}
	}
	if got := w.sim.CountDispatches(); got != 2 {
		t.Errorf("simulator created %d runs, want 2", got)
	}
	if gh.SupportsRunDetails(w.client) {
		t.Error("SupportsRunDetails() = true after the host refused return_run_details")
	}
}

func TestDispatchErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*gh.DispatchRequest)
		status    int
		permanent bool
	}{
		{"unknown workflow is a permanent 404", func(r *gh.DispatchRequest) { r.WorkflowID = "missing.yml" }, 404, true},
		{"undeclared input is a permanent 422 and no fallback", func(r *gh.DispatchRequest) { r.Inputs["nope"] = "x" }, 422, true},
		{"unknown ref is a permanent 422", func(r *gh.DispatchRequest) { r.Ref = "no-such-branch" }, 422, true},
		{"repository outside the installation is a permanent 404", func(r *gh.DispatchRequest) { r.Repo = "other" }, 404, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{})
			req := dispatchReq(w)
			tc.mutate(&req)
			_, err := w.client.Dispatch(ctxT(t), req)
			var ae *gh.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("want *gh.APIError, got %v", err)
			}
			if ae.Status != tc.status || gh.IsPermanent(err) != tc.permanent || gh.IsTransient(err) {
				t.Errorf("status %d permanent %v transient %v, want %d permanent %v transient false: %v",
					ae.Status, gh.IsPermanent(err), gh.IsTransient(err), tc.status, tc.permanent, err)
			}
			if gh.MaybeApplied(err) {
				t.Errorf("a %d cannot have created a run, but MaybeApplied is true", ae.Status)
			}
			if n := len(w.requests(http.MethodPost, "/dispatches")); n != 1 {
				t.Errorf("want exactly 1 dispatch request, got %d", n)
			}
			if !gh.SupportsRunDetails(w.client) {
				t.Error("an unrelated refusal switched off return_run_details")
			}
		})
	}
}

func TestDispatchRefusesBadRequestsBeforeSending(t *testing.T) {
	w := newWorld(t, worldOpts{})
	tests := []struct {
		name   string
		mutate func(*gh.DispatchRequest)
	}{
		{"path traversal in repo", func(r *gh.DispatchRequest) { r.Repo = "../x" }},
		{"slash in workflow id", func(r *gh.DispatchRequest) { r.WorkflowID = "a/b.yml" }},
		{"empty ref", func(r *gh.DispatchRequest) { r.Ref = " " }},
		{"no installation", func(r *gh.DispatchRequest) { r.InstallationID = 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := dispatchReq(w)
			tc.mutate(&req)
			_, err := w.client.Dispatch(ctxT(t), req)
			if !errors.Is(err, gh.ErrInvalidRequest) || !gh.IsPermanent(err) || gh.IsTransient(err) {
				t.Errorf("want a permanent ErrInvalidRequest, got %v", err)
			}
		})
	}
	if n := len(w.requests(http.MethodPost, "/dispatches")); n != 0 {
		t.Errorf("invalid requests reached GitHub: %d", n)
	}
}
