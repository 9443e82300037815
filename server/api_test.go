package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// The job JSON has exactly the fields of docs/API.md (Jobs) plus the two the UI
// shows (cancel_requested, label_mismatch), every one present.
func TestJobJSONHasExactlyTheDesignFields(t *testing.T) {
	want := []string{"id", "group_id", "template_id", "name", "owner", "repo", "workflow_id", "ref",
		"inputs", "status", "paused", "position", "auto_requeue", "requeue_limit", "requeue_count",
		"run_id", "run_url", "runner_name", "conclusion", "error", "source", "source_url",
		"created_by", "created_at", "triggered_at", "started_at", "completed_at",
		"cancel_requested", "label_mismatch"}
	b, err := json.Marshal(toJobJSON(core.Job{ID: 1}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("job JSON fields\n got %v\nwant %v", got, want)
	}
}

// A cancel awaiting GitHub and a runs-on label mismatch reach API clients
// (and so the UI's "cancelling…" and "runs-on mismatch" badges), in a body
// that still matches the documented Job schema.
func TestJobJSONCarriesCancelRequestedAndLabelMismatch(t *testing.T) {
	doc := loadSpec(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		j := h.enqueue(admin, "bottom")
		path := fmt.Sprintf("/api/v1/jobs/%d", j.ID)

		var fresh map[string]any
		h.doJSON(admin, "GET", path, nil, 200, &fresh)
		if fresh["cancel_requested"] != false || fresh["label_mismatch"] != "" {
			t.Fatalf("new job: cancel_requested=%v label_mismatch=%v", fresh["cancel_requested"], fresh["label_mismatch"])
		}

		ctx := t.Context()
		claimed, err := st.ClaimNextPending(ctx, testGroup, 1, func() string { return "attempt-1" })
		if err != nil || len(claimed) != 1 || claimed[0].ID != j.ID {
			t.Fatalf("claim: %v %+v", err, claimed)
		}
		if _, err := st.SetCancelRequested(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		const mismatch = "gpu (no runner of group-one has it)"
		if err := st.SetJobLabelMismatch(ctx, j.ID, mismatch); err != nil {
			t.Fatal(err)
		}

		r := h.request(admin, "GET", path, nil)
		_, pattern := h.srv.mux.Handler(r)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, r)
		checkAgainstSpec(t, doc, pattern, rec)
		var got jobJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if !got.CancelRequested || got.LabelMismatch != mismatch {
			t.Fatalf("cancel_requested=%v label_mismatch=%q, want true and %q", got.CancelRequested, got.LabelMismatch, mismatch)
		}
	})
}

func TestEnqueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		tok := h.token("ci", roleAdmin)
		base := "/api/v1/groups/" + testGroup + "/queue"
		cases := []struct {
			name      string
			as        caller
			path      string
			body      any
			wantCode  int
			wantField string
		}{
			{"template job from the UI is created", admin, base, map[string]any{"template_id": testTmpl, "inputs": map[string]string{"x": "1"}}, 201, ""},
			{"manual job in an installed repo is created", tok, base, map[string]any{"owner": "my-org", "repo": "anything", "workflow_id": "w.yml", "ref": "main"}, 201, ""},
			{"manual job where the App is not installed is refused", admin, base, map[string]any{"owner": "other-org", "repo": "x", "workflow_id": "w.yml", "ref": "main"}, 400, "repo"},
			{"manual job without owner names owner", admin, base, map[string]any{"repo": "x", "workflow_id": "w.yml", "ref": "main"}, 400, "owner"},
			{"manual job without ref names ref", admin, base, map[string]any{"owner": "my-org", "repo": "x", "workflow_id": "w.yml"}, 400, "ref"},
			{"bad position names position", admin, base, map[string]any{"template_id": testTmpl, "position": "middle"}, 400, "position"},
			{"unknown field is named", admin, base, map[string]any{"template_id": testTmpl, "priority": 1}, 400, "priority"},
			{"wrong type is named", admin, base, map[string]any{"template_id": testTmpl, "requeue_limit": "many"}, 400, "requeue_limit"},
			{"negative requeue limit is named", admin, base, map[string]any{"template_id": testTmpl, "requeue_limit": -1}, 400, "requeue_limit"},
			{"template of another group is refused", admin, "/api/v1/groups/" + otherGroup + "/queue", map[string]any{"template_id": testTmpl}, 400, "template_id"},
			{"malformed JSON is a 400", admin, base, "{not json", 400, ""},
			{"a body over 1 MiB is a 413", admin, base, map[string]any{"template_id": testTmpl, "inputs": map[string]string{"x": strings.Repeat("x", 1<<20)}}, 413, ""},
			{"more inputs than GitHub accepts names inputs", admin, base, map[string]any{"template_id": testTmpl, "inputs": manyInputs(30)}, 400, "inputs"},
			{"unknown group is a 404", admin, "/api/v1/groups/nope/queue", map[string]any{"template_id": testTmpl}, 404, ""},
			{"unknown template is a 404", admin, base, map[string]any{"template_id": "nope"}, 404, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := countJobs(t, h)
				rec := h.do(tc.as, "POST", tc.path, tc.body)
				if rec.Code != tc.wantCode {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantCode, rec.Body.String())
				}
				if tc.wantCode >= 400 {
					e := decodeErr(t, rec)
					if e.Field != tc.wantField {
						t.Fatalf("field %q, want %q (%s)", e.Field, tc.wantField, e.Msg)
					}
					if after := countJobs(t, h); after != before {
						t.Fatalf("a refused enqueue wrote a job: %d → %d", before, after)
					}
					return
				}
				var j jobJSON
				if err := json.Unmarshal(rec.Body.Bytes(), &j); err != nil {
					t.Fatal(err)
				}
				wantSource := core.JobSourceUI
				if tc.as.token != "" {
					wantSource = core.JobSourceAPI
				}
				if j.Status != core.StatusPending || j.Source != wantSource || j.ID == 0 {
					t.Fatalf("job %+v: want a pending %s job", j, wantSource)
				}
			})
		}
		entries, err := h.st.ListAudit(context.Background(), store.AuditQuery{Action: "enqueue"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries.Items) != 2 {
			t.Fatalf("want 2 enqueue audit entries, got %d", len(entries.Items))
		}
	})
}

func countJobs(t *testing.T, h *harness) int {
	t.Helper()
	n := 0
	for _, g := range []string{testGroup, otherGroup} {
		p, err := h.st.ListQueue(context.Background(), store.QueueQuery{GroupID: g, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
	}
	return n
}

func TestQueuePaginationAndReorder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		var ids []int64
		for range 5 {
			ids = append(ids, h.enqueue(admin, "bottom").ID)
		}
		var got []int64
		cursor := ""
		pages := 0
		for {
			var p page[jobJSON]
			h.doJSON(admin, "GET", "/api/v1/groups/"+testGroup+"/queue?limit=2&cursor="+cursor, nil, 200, &p)
			pages++
			for _, j := range p.Items {
				got = append(got, j.ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if pages != 3 || !slices.Equal(got, ids) {
			t.Fatalf("paged %d pages %v, want 3 pages %v", pages, got, ids)
		}
		rec := h.do(admin, "GET", "/api/v1/groups/"+testGroup+"/queue?limit=0", nil)
		if rec.Code != 400 || decodeErr(t, rec).Field != "limit" {
			t.Fatalf("limit=0: %d %s", rec.Code, rec.Body.String())
		}

		t.Run("full order is applied", func(t *testing.T) {
			rev := slices.Clone(ids)
			slices.Reverse(rev)
			var p page[jobJSON]
			h.doJSON(admin, "PUT", "/api/v1/groups/"+testGroup+"/queue/reorder", map[string]any{"job_ids": rev}, 200, &p)
			if order := jobIDs(p.Items); !slices.Equal(order, rev) {
				t.Fatalf("order %v, want %v", order, rev)
			}
		})
		t.Run("single move puts the job before another", func(t *testing.T) {
			var p page[jobJSON]
			h.doJSON(admin, "PUT", "/api/v1/groups/"+testGroup+"/queue/reorder", map[string]any{"job_id": ids[0], "before": ids[4]}, 200, &p)
			if order := jobIDs(p.Items); order[0] != ids[0] {
				t.Fatalf("order %v: want %d first", order, ids[0])
			}
		})
		t.Run("a job of another group is refused", func(t *testing.T) {
			rec := h.do(admin, "PUT", "/api/v1/groups/"+otherGroup+"/queue/reorder", map[string]any{"job_id": ids[0], "before": nil})
			if rec.Code != 400 || decodeErr(t, rec).Field != "job_id" {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		})
		t.Run("an empty body names the field", func(t *testing.T) {
			rec := h.do(admin, "PUT", "/api/v1/groups/"+testGroup+"/queue/reorder", map[string]any{})
			if rec.Code != 400 || decodeErr(t, rec).Field != "job_ids" {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		})
	})
}

func jobIDs(js []jobJSON) []int64 {
	out := make([]int64, 0, len(js))
	for _, j := range js {
		out = append(out, j.ID)
	}
	return out
}

func TestJobTransitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		j := h.enqueue(admin, "bottom")
		path := fmt.Sprintf("/api/v1/jobs/%d", j.ID)

		var got jobJSON
		h.doJSON(admin, "POST", path+"/pause", nil, 200, &got)
		if !got.Paused {
			t.Fatal("pause did not pause")
		}
		h.doJSON(admin, "PUT", path, map[string]any{"ref": "dev", "inputs": map[string]string{"a": "b"}}, 200, &got)
		if got.Ref != "dev" || got.Inputs["a"] != "b" {
			t.Fatalf("update: %+v", got)
		}
		h.doJSON(admin, "PUT", path+"/auto-requeue", map[string]any{"enabled": true, "requeue_limit": 3}, 200, &got)
		if !got.AutoRequeue || got.RequeueLimit != 3 {
			t.Fatalf("auto-requeue: %+v", got)
		}
		rec := h.do(admin, "PUT", path+"/auto-requeue", map[string]any{"requeue_limit": 3})
		if rec.Code != 400 || decodeErr(t, rec).Field != "enabled" {
			t.Fatalf("auto-requeue without enabled: %d %s", rec.Code, rec.Body.String())
		}
		h.doJSON(admin, "POST", path+"/disable-requeue", nil, 200, &got)
		if got.AutoRequeue {
			t.Fatal("disable-requeue left auto_requeue on")
		}
		h.doJSON(admin, "POST", path+"/cancel", nil, 200, &got)
		if got.Status != core.StatusCancelled {
			t.Fatalf("cancel: status %s", got.Status)
		}
		for _, tc := range []struct{ method, path string }{
			{"POST", path + "/cancel"}, {"PUT", path}, {"DELETE", path},
		} {
			t.Run(tc.method+" "+tc.path+" on a cancelled job is a 409", func(t *testing.T) {
				body := any(nil)
				if tc.method == "PUT" {
					body = map[string]any{"ref": "x"}
				}
				rec := h.do(admin, tc.method, tc.path, body)
				if rec.Code != http.StatusConflict || decodeErr(t, rec).Code != "conflict" {
					t.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
			})
		}
		if rec := h.do(admin, "GET", "/api/v1/jobs/999999", nil); rec.Code != 404 {
			t.Fatalf("unknown job: %d", rec.Code)
		}
		if rec := h.do(admin, "GET", "/api/v1/jobs/abc", nil); rec.Code != 400 || decodeErr(t, rec).Field != "id" {
			t.Fatalf("bad job id: %d %s", rec.Code, rec.Body.String())
		}
		other := h.enqueue(admin, "bottom")
		if rec := h.do(admin, "DELETE", fmt.Sprintf("/api/v1/jobs/%d", other.ID), nil); rec.Code != 204 {
			t.Fatalf("delete pending: %d %s", rec.Code, rec.Body.String())
		}
	})
}

func TestBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		a, b := h.enqueue(admin, "bottom"), h.enqueue(admin, "bottom")
		h.doJSON(admin, "POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", b.ID), nil, 200, nil)

		var res struct {
			Action  string       `json:"action"`
			Results []bulkResult `json:"results"`
		}
		h.doJSON(admin, "POST", "/api/v1/jobs/bulk", map[string]any{"action": "pause", "job_ids": []int64{a.ID, b.ID, 424242}}, 200, &res)
		if len(res.Results) != 3 {
			t.Fatalf("results: %+v", res.Results)
		}
		if r := res.Results[0]; !r.OK || r.Job == nil || !r.Job.Paused {
			t.Fatalf("pending job: %+v", r)
		}
		if r := res.Results[1]; r.OK || r.Code != "conflict" {
			t.Fatalf("cancelled job: %+v", r)
		}
		if r := res.Results[2]; r.OK || r.Code != "not_found" {
			t.Fatalf("unknown job: %+v", r)
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"unknown action", map[string]any{"action": "explode", "job_ids": []int64{a.ID}}, "action"},
			{"no jobs", map[string]any{"action": "pause", "job_ids": []int64{}}, "job_ids"},
			{"duplicate job", map[string]any{"action": "pause", "job_ids": []int64{a.ID, a.ID}}, "job_ids"},
		} {
			t.Run(tc.name+" is refused before anything is done", func(t *testing.T) {
				rec := h.do(admin, "POST", "/api/v1/jobs/bulk", tc.body)
				if rec.Code != 400 || decodeErr(t, rec).Field != tc.field {
					t.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
			})
		}
	})
}

func TestHistoryFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		for range 3 {
			j := h.enqueue(admin, "bottom")
			h.doJSON(admin, "POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", j.ID), nil, 200, nil)
		}
		var p page[jobJSON]
		h.doJSON(admin, "GET", "/api/v1/groups/"+testGroup+"/history?limit=2&status=cancelled", nil, 200, &p)
		if len(p.Items) != 2 || p.NextCursor == "" {
			t.Fatalf("first page: %d items, cursor %q", len(p.Items), p.NextCursor)
		}
		h.doJSON(admin, "GET", "/api/v1/groups/"+testGroup+"/history?limit=2&status=cancelled&cursor="+p.NextCursor, nil, 200, &p)
		if len(p.Items) != 1 || p.NextCursor != "" {
			t.Fatalf("last page: %d items, cursor %q", len(p.Items), p.NextCursor)
		}
		h.doJSON(admin, "GET", "/api/v1/groups/"+testGroup+"/history?status=failed", nil, 200, &p)
		if len(p.Items) != 0 {
			t.Fatalf("failed filter returned %d", len(p.Items))
		}
		for _, q := range []struct{ query, field string }{
			{"status=pending", "status"}, {"label=novalue", "label"}, {"limit=x", "limit"},
		} {
			rec := h.do(admin, "GET", "/api/v1/groups/"+testGroup+"/history?"+q.query, nil)
			if rec.Code != 400 || decodeErr(t, rec).Field != q.field {
				t.Fatalf("%s: %d %s", q.query, rec.Code, rec.Body.String())
			}
		}
		var stats page[store.StatsBucket]
		h.doJSON(admin, "GET", "/api/v1/groups/"+testGroup+"/history/stats?since=2h&bucket=1h", nil, 200, &stats)
		total := 0
		for _, b := range stats.Items {
			total += b.Cancelled
		}
		if total != 3 {
			t.Fatalf("stats count %d cancelled, want 3: %+v", total, stats.Items)
		}
		if rec := h.do(admin, "GET", "/api/v1/groups/"+testGroup+"/history/stats?bucket=1s", nil); rec.Code != 400 {
			t.Fatalf("tiny bucket: %d", rec.Code)
		}
	})
}

func TestGroupsRunnersAndPause(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		ctx := context.Background()
		if _, err := st.ReplaceScopeRunners(ctx, store.ScopeListing{Scope: "org:my-org", InstallationID: 7, Runners: []core.Runner{
			{ID: 1, Name: "r1", Scope: "org:my-org", Labels: []string{"self-hosted", "ONE"}, Status: core.RunnerOnline},
			{ID: 2, Name: "r2", Scope: "org:my-org", Labels: []string{"self-hosted", "two"}, Status: core.RunnerOnline},
		}}); err != nil {
			t.Fatal(err)
		}
		var rs page[store.RunnerRecord]
		h.doJSON(admin, "GET", "/api/v1/runners", nil, 200, &rs)
		if len(rs.Items) != 2 {
			t.Fatalf("runners: %d", len(rs.Items))
		}
		h.doJSON(admin, "GET", "/api/v1/groups/"+testGroup+"/runners", nil, 200, &rs)
		if len(rs.Items) != 1 || rs.Items[0].Name != "r1" {
			t.Fatalf("group runners (labels match case-insensitively): %+v", rs.Items)
		}
		h.enqueue(admin, "top")
		var g groupJSON
		h.doJSON(admin, "POST", "/api/v1/groups/"+testGroup+"/pause", nil, 200, &g)
		if !g.Paused || g.Queue[core.StatusPending] != 1 {
			t.Fatalf("paused group: %+v", g)
		}
		var gs page[groupJSON]
		h.doJSON(admin, "GET", "/api/v1/groups", nil, 200, &gs)
		if len(gs.Items) != 2 {
			t.Fatalf("groups: %d", len(gs.Items))
		}
		if rec := h.do(admin, "GET", "/api/v1/groups/nope", nil); rec.Code != 404 {
			t.Fatalf("unknown group: %d", rec.Code)
		}
		if rec := h.do(admin, "POST", "/api/v1/runners/refresh", nil); rec.Code != 503 {
			t.Fatalf("refresh without a reconciler: %d", rec.Code)
		}
		audit, err := st.ListAudit(ctx, store.AuditQuery{Action: "pause"})
		if err != nil || len(audit.Items) != 1 || audit.Items[0].Target != "group:"+testGroup {
			t.Fatalf("pause audit: %+v %v", audit.Items, err)
		}
	})
}

type fakeReconciler struct{ err error }

func (f fakeReconciler) ReconcileNow(context.Context) error { return f.err }

// A reconcile that goes on past failing parts answers 502 naming how many
// failed, not an opaque 500; one without failures answers 202.
func TestRefreshRunnersReportsPartialFailure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantCode int
		wantText string
	}{
		{"a clean reconcile is accepted", nil, 202, `"status":"reconciled"`},
		{"two failed parts answer 502 with their count", errors.Join(errors.New("scope org:a: 502"), errors.Join(errors.New("job 1: 403"))),
			502, "finished with 2 error(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, storetest.SQLite(t), harnessOpts{options: func(o *Options) { o.Reconciler = fakeReconciler{tc.err} }})
			admin := h.session("admin")
			rec := h.do(admin, "POST", "/api/v1/runners/refresh", nil)
			if rec.Code != tc.wantCode || !strings.Contains(rec.Body.String(), tc.wantText) {
				t.Fatalf("refresh: %d %s, want %d with %q", rec.Code, rec.Body.String(), tc.wantCode, tc.wantText)
			}
			if strings.Contains(rec.Body.String(), "org:a") {
				t.Fatalf("error details leaked to the client: %s", rec.Body.String())
			}
		})
	}
}

func TestAPIRoutingErrorsAreJSON(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	h.srv = New(Options{Store: h.st, Config: h.cfg, Queue: h.q, UI: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>ui</html>"))
	})})
	t.Cleanup(func() { _ = h.srv.Close() })
	cases := []struct {
		name, method, path string
		want               int
		wantAllow          string
	}{
		{"unknown API path is a JSON 404, not the UI", "GET", "/api/v1/nope", 404, ""},
		{"wrong method is a JSON 405 with Allow", "PATCH", "/api/v1/jobs/1", 405, "GET, PUT, DELETE"},
		{"the UI still serves other paths", "GET", "/groups/g1", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := h.do(anonymous, tc.method, tc.path, nil)
			if rec.Code != tc.want || rec.Header().Get("Allow") != tc.wantAllow {
				t.Fatalf("%d Allow=%q: %s", rec.Code, rec.Header().Get("Allow"), rec.Body.String())
			}
			if tc.want >= 400 {
				decodeErr(t, rec)
			}
		})
	}
}

func manyInputs(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("in%d", i)] = "v"
	}
	return m
}

// A body sent without Content-Length (chunked) is cut at the limit while
// it is read, and still answers 413 rather than a decoding error.
func TestChunkedOversizedBodyIs413(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	admin := h.session("admin")
	body := `{"template_id":"` + testTmpl + `","inputs":{"x":"` + strings.Repeat("x", 1<<20) + `"}}`
	r := h.request(admin, "POST", "/api/v1/groups/"+testGroup+"/queue", nil)
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, r)
	if rec.Code != 413 || decodeErr(t, rec).Code != "too_large" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}
