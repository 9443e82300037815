package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>dispatchoor</title>")},
		"config.json":          {Data: []byte(`{"apiUrl": ""}`)},
		"assets/app-abc12.js":  {Data: []byte("console.log(1)")},
		"assets/app-abc12.css": {Data: []byte("body{}")},
		"favicon.svg":          {Data: []byte("<svg/>")},
	}
}

func TestHandler(t *testing.T) {
	h := Handler(testFS())
	cases := []struct {
		name        string
		method      string
		path        string
		wantStatus  int
		wantBody    string // substring
		wantType    string // substring of Content-Type
		wantCaching string // substring of Cache-Control
	}{
		{"root serves index", "GET", "/", 200, "<title>dispatchoor", "text/html", "no-cache"},
		{"client route falls back to index", "GET", "/groups/sync-tests/queue", 200, "<title>dispatchoor", "text/html", "no-cache"},
		{"group id with a dot is still a client route", "GET", "/groups/sync.v2", 200, "<title>dispatchoor", "text/html", ""},
		{"missing png is a 404", "GET", "/logo.png", 404, "", "", ""},
		{"index.html by name serves index without redirect", "GET", "/index.html", 200, "<title>dispatchoor", "text/html", "no-cache"},
		{"hashed asset served with immutable caching", "GET", "/assets/app-abc12.js", 200, "console.log", "javascript", "immutable"},
		{"css asset has css type", "GET", "/assets/app-abc12.css", 200, "body{}", "text/css", "immutable"},
		{"config.json revalidated so deploys can change apiUrl", "GET", "/config.json", 200, `"apiUrl"`, "json", "no-cache"},
		{"missing asset is a 404 not index", "GET", "/assets/missing-123.js", 404, "", "", ""},
		{"api prefix never shadowed", "GET", "/api/v1/nope", 404, "", "", ""},
		{"bare api never shadowed", "GET", "/api", 404, "", "", ""},
		{"metrics never shadowed", "GET", "/metrics", 404, "", "", ""},
		{"health never shadowed", "GET", "/health", 404, "", "", ""},
		{"a route merely starting with metrics is a client route", "GET", "/metricsboard", 200, "<title>dispatchoor", "text/html", ""},
		{"path traversal stays inside the fs", "GET", "/../../etc/passwd", 200, "<title>dispatchoor", "text/html", ""},
		{"directory is not listed", "GET", "/assets/", 200, "<title>dispatchoor", "text/html", ""},
		{"head of client route", "HEAD", "/runners", 200, "", "text/html", ""},
		{"post refused", "POST", "/", 405, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, "http://x"+tc.path, nil)
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if tc.wantBody != "" && !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body.String(), tc.wantBody)
			}
			if tc.wantType != "" && !strings.Contains(rec.Header().Get("Content-Type"), tc.wantType) {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tc.wantType)
			}
			if tc.wantCaching != "" && !strings.Contains(rec.Header().Get("Cache-Control"), tc.wantCaching) {
				t.Errorf("Cache-Control = %q, want %q", rec.Header().Get("Cache-Control"), tc.wantCaching)
			}
			if tc.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD wrote a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

func TestHandlerWithoutIndex(t *testing.T) {
	h := Handler(fstest.MapFS{"config.json": {Data: []byte(`{}`)}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/groups", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404 when index.html is missing", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "not built") {
		t.Errorf("body %q should say the dashboard is not built", rec.Body.String())
	}
}

func TestFSWithoutTagReportsAbsent(t *testing.T) {
	fsys, ok := FS()
	if embedded && !ok {
		t.Fatal("built with embedui but FS reports no dashboard")
	}
	if !embedded && (ok || fsys != nil) {
		t.Fatalf("built without embedui but FS returned (%v, %v)", fsys, ok)
	}
}

func TestEmbeddedDashboardServesIndex(t *testing.T) {
	fsys, ok := FS()
	if !ok {
		if embedded {
			t.Fatal("built with embedui but no dashboard")
		}
		return // without the tag there is nothing embedded to serve
	}
	rec := httptest.NewRecorder()
	Handler(fsys).ServeHTTP(rec, httptest.NewRequest("GET", "/groups/x/queue", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="root"`) {
		t.Fatalf("embedded index: status %d body %q", rec.Code, rec.Body.String())
	}
}
