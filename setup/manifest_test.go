package setup_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ethpandaops/dispatchoor/setup"
)

// The embedded copy exists only because go:embed cannot reach the
// repository root; it must never drift from the file people read.
func TestEmbeddedManifestIsTheRepositoryManifest(t *testing.T) {
	root, err := os.ReadFile("../app-manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := os.ReadFile("app-manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(root, embedded) {
		t.Fatal("setup/app-manifest.yml differs from ../app-manifest.yml: run `go generate ./setup`")
	}
}

type rendered struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL           string            `json:"redirect_url"`
	CallbackURLs          []string          `json:"callback_urls"`
	Public                *bool             `json:"public"`
	DefaultPermissions    map[string]string `json:"default_permissions"`
	DefaultEvents         []string          `json:"default_events"`
	RequestOAuthOnInstall *bool             `json:"request_oauth_on_install"`
	Description           string            `json:"description"`
}

func render(t *testing.T, publicURL string) rendered {
	t.Helper()
	raw, err := setup.Manifest(publicURL)
	if err != nil {
		t.Fatalf("Manifest(%q): %v", publicURL, err)
	}
	var r rendered
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("manifest JSON: %v\n%s", err, raw)
	}
	return r
}

func TestManifestGrantsExactlyWhatTheAppNeeds(t *testing.T) {
	m := render(t, "https://dispatch.example.com")
	// The product requirement (issue 4, point 6), written out on purpose.
	wantPerms := map[string]string{
		"actions": "write", "organization_self_hosted_runners": "read",
		"issues": "write", "pull_requests": "write", "metadata": "read",
	}
	wantEvents := []string{"workflow_job", "workflow_run", "issue_comment"}
	if !reflect.DeepEqual(m.DefaultPermissions, wantPerms) {
		t.Errorf("default_permissions = %v, want %v", m.DefaultPermissions, wantPerms)
	}
	if !reflect.DeepEqual(m.DefaultEvents, wantEvents) {
		t.Errorf("default_events = %v, want %v", m.DefaultEvents, wantEvents)
	}

	// And the JSON says exactly what the YAML says, read independently.
	raw, err := os.ReadFile("../app-manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var y struct {
		Permissions map[string]string `yaml:"default_permissions"`
		Events      []string          `yaml:"default_events"`
		Public      bool              `yaml:"public"`
		OAuth       bool              `yaml:"request_oauth_on_install"`
		Description string            `yaml:"description"`
	}
	if err := yaml.Unmarshal(raw, &y); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.DefaultPermissions, y.Permissions) || !reflect.DeepEqual(m.DefaultEvents, y.Events) {
		t.Errorf("JSON permissions/events %v %v differ from the YAML's %v %v", m.DefaultPermissions, m.DefaultEvents, y.Permissions, y.Events)
	}
	if m.Public == nil || *m.Public != y.Public || m.RequestOAuthOnInstall == nil || *m.RequestOAuthOnInstall != y.OAuth || m.Description != y.Description {
		t.Errorf("public/request_oauth_on_install/description differ from the YAML")
	}
	if m.HookAttributes.Active == nil || !*m.HookAttributes.Active {
		t.Error("hook_attributes.active must be true: without webhooks the App sees no runner state")
	}
}

func TestManifestPointsEveryURLAtThePublicURL(t *testing.T) {
	for _, tc := range []struct{ name, in, base string }{
		{"plain", "https://dispatch.example.com", "https://dispatch.example.com"},
		{"trailing slash trimmed", "https://dispatch.example.com/", "https://dispatch.example.com"},
		{"port and path prefix kept", "http://10.0.0.5:9090/dispatchoor", "http://10.0.0.5:9090/dispatchoor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.in)
			got := map[string]string{"url": m.URL, "hook": m.HookAttributes.URL, "redirect": m.RedirectURL, "callback": strings.Join(m.CallbackURLs, ",")}
			want := map[string]string{"url": tc.base, "hook": tc.base + "/api/github/hook",
				"redirect": tc.base + "/api/v1/setup/callback", "callback": tc.base + "/api/v1/auth/github/callback"}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("urls = %v, want %v", got, want)
			}
		})
	}
}

func TestManifestRefusesPublicURLsGitHubCannotUse(t *testing.T) {
	for _, bad := range []string{"", "dispatch.example.com", "/relative", "ftp://x.example.com",
		"https://x.example.com/?a=b", "https://x.example.com/#frag", "https://user:pw@x.example.com", "https://"} {
		if _, err := setup.Manifest(bad); err == nil {
			t.Errorf("Manifest(%q) accepted a public_url GitHub cannot call back", bad)
		}
	}
	if _, err := setup.ManifestNamed("https://x.example.com", strings.Repeat("n", 35)); err == nil {
		t.Error("a 35-character App name was accepted (GitHub's limit is 34)")
	}
}

func TestDefaultAppNameSeparatesInstallations(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://localhost:9090", "dispatchoor-localhost"},
		{"https://ci.example.com", "dispatchoor-ci-example-com"},
		{"https://Dispatch.EthPandaOps.io/x", "dispatchoor-dispatch-ethpandaops-io"[:34]},
		{"https://a-very-long-hostname-for-testing.example.com", "dispatchoor-a-very-long-hostname-f"},
		{"http://[::1]:9090", "dispatchoor-1"},
		{"not a url", "dispatchoor"},
	} {
		got := setup.DefaultAppName(tc.in)
		if got != tc.want || len(got) > 34 {
			t.Errorf("DefaultAppName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzManifest: whatever the public URL, the manifest is either refused or
// valid JSON whose URLs all live under it, with no placeholder left.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{"https://x.example.com", "http://localhost:9090/", "https://x/{{public_url}}", "https://x\"y", "http://[::1]/a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, publicURL string) {
		raw, err := setup.Manifest(publicURL)
		if err != nil {
			return
		}
		var m rendered
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("invalid JSON for %q: %v", publicURL, err)
		}
		base := m.URL
		for _, u := range append([]string{m.HookAttributes.URL, m.RedirectURL}, m.CallbackURLs...) {
			if !strings.HasPrefix(u, base+"/") {
				t.Fatalf("%q is not under %q", u, base)
			}
		}
		if len(m.Name) == 0 || len(m.Name) > 34 || len(m.DefaultPermissions) != 5 {
			t.Fatalf("bad manifest for %q: %s", publicURL, raw)
		}
	})
}
