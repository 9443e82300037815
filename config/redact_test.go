package config

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"plain URL is unchanged", "https://example.com/t.yaml", "https://example.com/t.yaml"},
		{"token as user name", "https://ghp_secret@example.com/t.yaml", "https://REDACTED@example.com/t.yaml"},
		{"user and password", "https://bot:s3cret@example.com/t.yaml", "https://REDACTED@example.com/t.yaml"},
		{"query values", "https://example.com/t.yaml?token=s3cret&ref=main", "https://example.com/t.yaml?ref=REDACTED&token=REDACTED"},
		{"fragment", "https://example.com/t.yaml#s3cret", "https://example.com/t.yaml#REDACTED"},
		{"unparsable keeps only what precedes a secret", "http://[::1%zz]@s3cret", "http://[::1%zz]…REDACTED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactURL(tt.in)
			if got != tt.want {
				t.Fatalf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, "s3cret") || strings.Contains(got, "ghp_secret") {
				t.Fatalf("secret left in %q", got)
			}
		})
	}
}

// A token put into a template URL through ${VAR} is fetched with, but never
// shown: not in the template's source location (the API shows it to
// readonly users) and not in a problem `dispatchoor validate` prints.
func TestTemplateURLSecretsAreNeverShown(t *testing.T) {
	const token = "tok_s3cret_value"
	var sawToken bool
	srv := templateServer(t, map[string]string{
		"/ok.yaml": "- { id: u1, owner: o, repo: r, workflow_id: w }\n",
	})
	client := srv.Client()
	inner := client.Transport
	client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sawToken = sawToken || r.URL.Query().Get("token") == token
		return inner.RoundTrip(r)
	})
	vars := env(map[string]string{"TEMPLATE_TOKEN": token})

	t.Run("source location", func(t *testing.T) {
		cfg := mustLoad(t, map[string]string{
			"config.yml": groupWith("      workflow_dispatch_templates_urls: [\"" + srv.URL + "/ok.yaml?token=${TEMPLATE_TOKEN}\"]\n"),
		}, LoadOptions{HTTPClient: client, LookupEnv: vars})
		if !sawToken {
			t.Fatal("the fetch did not carry the token: the test proves nothing")
		}
		_, templates := cfg.Groups()
		if len(templates) != 1 {
			t.Fatalf("templates: %+v", templates)
		}
		if loc := templates[0].Source.Location; strings.Contains(loc, token) || loc != srv.URL+"/ok.yaml?token=REDACTED" {
			t.Fatalf("source location %q", loc)
		}
	})
	t.Run("problems of a failed fetch", func(t *testing.T) {
		_, ps, _ := loadFiles(t, map[string]string{
			"config.yml": groupWith("      workflow_dispatch_templates_urls: [\"" + srv.URL + "/missing.yaml?token=${TEMPLATE_TOKEN}\"]\n"),
		}, LoadOptions{HTTPClient: client, LookupEnv: vars})
		if ps == nil || strings.Contains(ps.Error(), token) || !strings.Contains(ps.Error(), "token=REDACTED") {
			t.Fatalf("problems: %v", ps)
		}
	})
	t.Run("problems of an unreachable host", func(t *testing.T) {
		_, ps, _ := loadFiles(t, map[string]string{
			"config.yml": groupWith("      workflow_dispatch_templates_urls: [\"http://user:${TEMPLATE_TOKEN}@127.0.0.1:1/t.yaml?token=${TEMPLATE_TOKEN}\"]\n"),
		}, LoadOptions{LookupEnv: vars})
		if ps == nil || strings.Contains(ps.Error(), token) {
			t.Fatalf("problems: %v", ps)
		}
	})
	t.Run("problems of a template inside the URL", func(t *testing.T) {
		bad := templateServer(t, map[string]string{"/bad.yaml": "- id: u\n  branch: main\n"})
		_, ps, _ := loadFiles(t, map[string]string{
			"config.yml": groupWith("      workflow_dispatch_templates_urls: [\"" + bad.URL + "/bad.yaml?token=${TEMPLATE_TOKEN}\"]\n"),
		}, LoadOptions{HTTPClient: bad.Client(), LookupEnv: vars})
		if ps == nil || strings.Contains(ps.Error(), token) {
			t.Fatalf("problems: %v", ps)
		}
	})
}

func TestRedactURLErrorKeepsTheCause(t *testing.T) {
	cause := errors.New("connection refused")
	err := redactURLError(&url.Error{Op: "Get", URL: "https://u:p@h/x?token=s3cret", Err: cause})
	if strings.Contains(err.Error(), "s3cret") || !errors.Is(err, cause) {
		t.Fatalf("%v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
