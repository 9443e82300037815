package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPISpec)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	// Validate also checks every example against its schema.
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI 3: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentsExactlyTheRoutes(t *testing.T) {
	doc := loadSpec(t)
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range h.srv.routes {
		key := rt.Method + " " + rt.Path
		served[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in openapi.yaml", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("openapi.yaml documents %s, which the router does not serve", key)
		}
	}
}

func TestOpenAPIExamplesValidate(t *testing.T) {
	doc := loadSpec(t)
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for ct, mt := range resp.Value.Content {
					if mt.Example == nil || mt.Schema == nil {
						continue
					}
					n++
					b, _ := json.Marshal(mt.Example)
					var v any
					_ = json.Unmarshal(b, &v)
					if err := mt.Schema.Value.VisitJSON(v); err != nil {
						t.Errorf("%s %s %s %s: example does not match its schema: %v", method, path, code, ct, err)
					}
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d response examples checked; the description lost its examples", n)
	}
}

func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	rec := h.do(anonymous, "GET", "/api/v1/openapi.yaml", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "openapi: 3") {
		t.Fatalf("%d %.40q", rec.Code, rec.Body.String())
	}
}

// TestResponsesMatchOpenAPI drives real requests and validates every JSON
// answer against the schema documented for its route and status.
func TestResponsesMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		j1, j2 := h.enqueue(admin, "bottom"), h.enqueue(admin, "top")
		var tok createdToken
		h.doJSON(admin, "POST", "/api/v1/tokens", map[string]string{"name": "spec", "role": "admin"}, 201, &tok)
		calls := []struct {
			method, path string
			body         any
		}{
			{"GET", "/health", nil},
			{"GET", "/healthz", nil},
			{"GET", "/readyz", nil},
			{"GET", "/api/v1/auth/providers", nil},
			{"POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPass}},
			{"POST", "/api/v1/auth/login", map[string]string{"username": "admin"}},
			{"GET", "/api/v1/auth/me", nil},
			{"GET", "/api/v1/groups", nil},
			{"GET", "/api/v1/groups/" + testGroup, nil},
			{"GET", "/api/v1/groups/nope", nil},
			{"GET", "/api/v1/groups/" + testGroup + "/templates", nil},
			{"GET", "/api/v1/templates/" + testTmpl, nil},
			{"POST", "/api/v1/groups/" + testGroup + "/pause", nil},
			{"POST", "/api/v1/groups/" + testGroup + "/unpause", nil},
			{"GET", "/api/v1/groups/" + testGroup + "/queue?limit=1", nil},
			{"POST", "/api/v1/groups/" + testGroup + "/queue", map[string]any{"template_id": testTmpl}},
			{"POST", "/api/v1/groups/" + testGroup + "/queue", map[string]any{"template_id": testTmpl, "position": "middle"}},
			{"PUT", "/api/v1/groups/" + testGroup + "/queue/reorder", map[string]any{"job_id": j1.ID, "before": j2.ID}},
			{"GET", fmt.Sprintf("/api/v1/jobs/%d", j1.ID), nil},
			{"PUT", fmt.Sprintf("/api/v1/jobs/%d", j1.ID), map[string]any{"ref": "dev"}},
			{"POST", fmt.Sprintf("/api/v1/jobs/%d/pause", j1.ID), nil},
			{"POST", fmt.Sprintf("/api/v1/jobs/%d/unpause", j1.ID), nil},
			{"PUT", fmt.Sprintf("/api/v1/jobs/%d/auto-requeue", j1.ID), map[string]any{"enabled": true}},
			{"POST", fmt.Sprintf("/api/v1/jobs/%d/disable-requeue", j1.ID), nil},
			{"POST", "/api/v1/jobs/bulk", map[string]any{"action": "pause", "job_ids": []int64{j1.ID, 999}}},
			{"POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", j1.ID), nil},
			{"POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", j1.ID), nil},
			{"DELETE", fmt.Sprintf("/api/v1/jobs/%d", j2.ID), nil},
			{"GET", "/api/v1/groups/" + testGroup + "/history?status=cancelled", nil},
			{"GET", "/api/v1/groups/" + testGroup + "/history/stats", nil},
			{"GET", "/api/v1/runners", nil},
			{"GET", "/api/v1/groups/" + testGroup + "/runners", nil},
			{"POST", "/api/v1/runners/refresh", nil},
			{"POST", "/api/v1/templates/reload", nil},
			{"GET", "/api/v1/status", nil},
			{"GET", "/api/v1/audit?limit=5", nil},
			{"GET", "/api/v1/tokens", nil},
			{"POST", "/api/v1/tokens", map[string]string{"name": "spec2", "role": "readonly"}},
			{"DELETE", "/api/v1/tokens/" + strconv.FormatInt(tok.ID, 10), nil},
			{"POST", "/api/v1/auth/logout", nil},
		}
		for _, c := range calls {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				r := h.request(admin, c.method, c.path, c.body)
				_, pattern := h.srv.mux.Handler(r)
				rec := httptest.NewRecorder()
				h.srv.ServeHTTP(rec, r)
				checkAgainstSpec(t, doc, pattern, rec)
			})
		}
	})
}

func checkAgainstSpec(t *testing.T, doc *openapi3.T, pattern string, rec *httptest.ResponseRecorder) {
	t.Helper()
	method, path, _ := strings.Cut(pattern, " ")
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("%s is not documented", pattern)
	}
	op := item.GetOperation(method)
	resp := op.Responses.Status(rec.Code)
	if resp == nil || resp.Value == nil {
		if rec.Code < 400 {
			t.Fatalf("%s answered %d, which is not documented", pattern, rec.Code)
		}
		resp = doc.Components.Responses["BadRequest"] // every error is an Error
	}
	if rec.Body.Len() == 0 {
		if len(resp.Value.Content) > 0 && rec.Code != http.StatusNoContent {
			t.Fatalf("%s %d: empty body, but content is documented", pattern, rec.Code)
		}
		return
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		t.Fatalf("%s %d: JSON body without a documented JSON schema", pattern, rec.Code)
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s %d: body is not JSON: %v", pattern, rec.Code, err)
	}
	if err := mt.Schema.Value.VisitJSON(v); err != nil {
		t.Fatalf("%s %d: body does not match the documented schema: %v\n%s", pattern, rec.Code, err, rec.Body.String())
	}
	if !slices.Contains([]string{"application/json"}, strings.Split(rec.Header().Get("Content-Type"), ";")[0]) {
		t.Fatalf("%s: content type %q", pattern, rec.Header().Get("Content-Type"))
	}
}
