package conformance

import (
	"errors"
	"strings"
	"testing"
)

func TestRESTPathReducesWhatClientsSaw(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain path is kept", "/orgs/o/actions/runners", "/orgs/o/actions/runners"},
		{"GHES base is stripped", "/api/v3/orgs/o/actions/runners", "/orgs/o/actions/runners"},
		{"query is stripped", "/orgs/o/actions/runners?per_page=100&page=2", "/orgs/o/actions/runners"},
		{"fragment is stripped", "/orgs/o#x", "/orgs/o"},
		{"full URL keeps only its path", "http://127.0.0.1:8080/api/v3/app/installations?per_page=1", "/app/installations"},
		{"bare host is the root", "https://ghes.example", "/"},
		{"trailing slash is dropped", "/api/v3/app/", "/app"},
		{"/api/v3 alone is the root", "/api/v3", "/"},
		{"only a whole /api/v3 segment is a base", "/api/v3x/y", "/api/v3x/y"},
		{"missing leading slash is added", "repos/o/r", "/repos/o/r"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := restPath(tc.in); got != tc.want {
				t.Fatalf("restPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzRESTPath(f *testing.F) {
	for _, s := range []string{"/api/v3/orgs/o/actions/runners?per_page=100", "https://h/api/v3", "", "?", "//", "/api/v3/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := restPath(in)
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("restPath(%q) = %q: no leading slash", in, got)
		}
		if strings.ContainsAny(got, "?#") {
			t.Fatalf("restPath(%q) = %q: query or fragment kept", in, got)
		}
		if got != "/" && strings.HasSuffix(got, "/") {
			t.Fatalf("restPath(%q) = %q: trailing slash kept", in, got)
		}
		if again := restPath(got); again != got && !strings.HasPrefix(got, "/api/v3") {
			t.Fatalf("restPath not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}

// Whatever bytes arrive, the validator answers with a verdict (nil or a
// *Mismatch); it never loses its process, its framing or its way.
func FuzzWebhookVerdicts(f *testing.F) {
	v := New(f)
	// The fuzz engine kills a worker whose input takes over 10s; compile the
	// definitions mutated seeds will reach up front, so inputs measure
	// validation rather than first-use compilation.
	for _, action := range []string{"queued", "waiting", "in_progress", "completed"} {
		_ = v.Webhook("workflow_job", []byte(`{"action":"`+action+`"}`))
	}
	_ = v.Webhook("ping", []byte(`{}`))
	for _, s := range []string{`{"zen":"x","hook_id":1,"hook":{}}`, `{"action":"queued"}`, "\n{}\n", `"\u2028"`, `{"action":"\n"}`, `null`, ``, `{`} {
		f.Add("workflow_job", []byte(s))
		f.Add("ping", []byte(s))
	}
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		err := v.Webhook(event, payload)
		var mm *Mismatch
		if err != nil && !errors.As(err, &mm) {
			t.Fatalf("Webhook(%q, %q) broke the validator: %v", event, payload, err)
		}
		if err := v.Webhook("ping", []byte(`{"zen":"z","hook_id":1}`)); !errors.As(err, &mm) {
			t.Fatalf("validator lost its way after %q: %v", payload, err)
		}
	})
}
