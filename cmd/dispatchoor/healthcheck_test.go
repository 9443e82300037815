package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer ready.Close()
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"not ready","reasons":["draining"]}`))
	}))
	defer notReady.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, tc := range []struct {
		name, url string
		code      int
		want      string
	}{
		{"2xx exits 0", ready.URL + "/readyz", 0, `{"status":"ok"}`},
		{"503 exits 1 and prints the reasons", notReady.URL + "/readyz", 1, "draining"},
		{"nothing listening exits 1", gone.URL + "/readyz", 1, "connection refused"},
		{"malformed url exits 2", "http://[::1", 2, "bad --url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"healthcheck", "--url", tc.url}, &out, &errOut)
			if got := exitCode(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d; stderr %s", got, err, tc.code, errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Fatalf("output %q lacks %q", out.String()+errOut.String(), tc.want)
			}
		})
	}
}

func TestHealthcheckAgainstTheServer(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	srv := startTestServer(t, writeFile(t, dir, "c.yml", validConfig(dir, addr)), addr)
	defer srv.stop()
	for _, probe := range []string{"/healthz", "/readyz"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"healthcheck", "--url", "http://" + addr + probe}, &out, &errOut); err != nil {
			t.Fatalf("%s: %v %s", probe, err, errOut.String())
		}
	}
}

func TestVersionPrintsStamps(t *testing.T) {
	version, commit, buildDate = "v9.9.9", "0123456789abcdef", "2026-01-02T03:04:05Z"
	t.Cleanup(func() { version, commit, buildDate = "", "", "" })
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dispatchoor v9.9.9", "commit  0123456789abcdef", "built   2026-01-02T03:04:05Z"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version output %q lacks %q", out.String(), want)
		}
	}
}
