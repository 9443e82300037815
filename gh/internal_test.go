package gh

import (
	"strings"
	"testing"
	"time"
)

func TestEndpointTemplate(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/app", "/app"},
		{"/app/installations", "/app/installations"},
		{"/app/installations/12/access_tokens", "/app/installations/{installation_id}/access_tokens"},
		{"/app/hook/deliveries/5/attempts", "/app/hook/deliveries/{delivery_id}/attempts"},
		{"/orgs/acme/actions/runners", "/orgs/{org}/actions/runners"},
		{"/repos/acme/app/actions/runners", "/repos/{owner}/{repo}/actions/runners"},
		{"/repos/acme/app/actions/runs", "/repos/{owner}/{repo}/actions/runs"},
		{"/repos/acme/app/actions/runs/9", "/repos/{owner}/{repo}/actions/runs/{run_id}"},
		{"/repos/acme/app/actions/runs/9/cancel", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"},
		{"/repos/acme/app/issues/7/comments", "/repos/{owner}/{repo}/issues/{issue_number}/comments"},
		{"/repos/acme/app/issues/comments/7", "/repos/{owner}/{repo}/issues/comments/{comment_id}"},
		{"/repos/acme/app/actions/workflows/sync.yml/dispatches", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"},
		{"/repos/acme/app/git/refs", "other"},
		{"/", "other"},
		{"/repos//app/actions/runs", "other"},
	}
	for _, tc := range tests {
		if got := endpointTemplate(tc.path); got != tc.want {
			t.Errorf("endpointTemplate(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func FuzzEndpointTemplate(f *testing.F) {
	for _, e := range endpoints {
		f.Add(e, "x")
	}
	f.Add("/repos/a/b/issues/comments/1", "comments")
	f.Fuzz(func(t *testing.T, tpl, fill string) {
		got := endpointTemplate(tpl)
		if got != "other" && !isEndpoint(got) {
			t.Fatalf("endpointTemplate(%q) = %q, neither a known template nor other", tpl, got)
		}
		// A known template filled with any one safe segment maps back to a
		// template with the same shape (bounded cardinality, never the path).
		if !isEndpoint(tpl) || fill == "" || strings.ContainsAny(fill, "/") {
			return
		}
		var segs []string
		for _, s := range strings.Split(strings.Trim(tpl, "/"), "/") {
			if strings.HasPrefix(s, "{") {
				s = fill
			}
			segs = append(segs, s)
		}
		back := endpointTemplate("/" + strings.Join(segs, "/"))
		if back == "other" || strings.Count(back, "/") != strings.Count(tpl, "/") {
			t.Fatalf("filled %q maps to %q", tpl, back)
		}
	})
}

func isEndpoint(s string) bool {
	for _, e := range endpoints {
		if e == s {
			return true
		}
	}
	return false
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 60 ", time.Minute, true},
		{"0", 0, true},
		{"-3", 0, false},
		{"999999999", 0, false},
		{"Thu, 26 Nov 2026 02:00:30 GMT", 30 * time.Second, true},
		{"Thu, 26 Nov 2026 01:00:00 GMT", 0, true},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "Thu, 26 Nov 2026 02:00:30 GMT", "-1", "1e9", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %s, %v", v, d, ok)
		}
	})
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"org:acme", "repo:acme/app", "repo:a/b/c", "org:", ":", "team:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScope(s)
		if err != nil {
			return
		}
		again, err := ParseScope(sc.String())
		if err != nil || again != sc {
			t.Fatalf("ParseScope(%q) = %+v, but its String %q parses to %+v, %v", s, sc, sc.String(), again, err)
		}
		for _, n := range []string{sc.Org, sc.Owner, sc.Repo} {
			if strings.ContainsAny(n, "/?#%") || n == ".." {
				t.Fatalf("ParseScope(%q) let %q through into a request path", s, n)
			}
		}
	})
}
