package config

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// templateServer serves template lists by path.
func templateServer(t *testing.T, bodies map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func groupWith(extra string) string {
	return "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      runner_scope: org:o\n" + extra
}

func TestTemplateSourcesInOrderAndTagged(t *testing.T) {
	srv := templateServer(t, map[string]string{
		"/one.yaml": "- { id: u1, owner: o, repo: r, workflow_id: w }\n",
		"/two.yaml": "- { id: u2, owner: o, repo: r, workflow_id: w }\n",
	})
	cfg, ps, dir := loadFiles(t, map[string]string{
		"config.yml": groupWith(fmt.Sprintf(`      workflow_dispatch_templates_urls: [%[1]s/one.yaml, %[1]s/two.yaml]
      workflow_dispatch_templates_files: [t/a.yaml, t/b.yaml]
      workflow_dispatch_templates:
        - { id: i1, owner: o, repo: r, workflow_id: w }
`, srv.URL)),
		"t/a.yaml": "- { id: f1, owner: o, repo: r, workflow_id: w }\n- { id: f2, owner: o, repo: r, workflow_id: w }\n",
		"t/b.yaml": "- { id: f3, owner: o, repo: r, workflow_id: w }\n",
	}, LoadOptions{HTTPClient: srv.Client()})
	if ps != nil {
		t.Fatalf("problems:\n%v", ps)
	}
	_, templates := cfg.Groups()
	var got []string
	for _, tpl := range templates {
		got = append(got, fmt.Sprintf("%s %s %s", tpl.ID, tpl.Source.Kind, tpl.Source.Location))
	}
	want := []string{
		"i1 inline ",
		"f1 file " + filepath.Join(dir, "t/a.yaml"),
		"f2 file " + filepath.Join(dir, "t/a.yaml"),
		"f3 file " + filepath.Join(dir, "t/b.yaml"),
		"u1 url " + srv.URL + "/one.yaml",
		"u2 url " + srv.URL + "/two.yaml",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("templates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestURLTemplatesAreNeverExpanded(t *testing.T) {
	srv := templateServer(t, map[string]string{
		"/t.yaml": "- id: u1\n  owner: o\n  repo: r\n  workflow_id: w\n  inputs: { leak: \"${SERVER_SECRET}\", esc: \"$${X}\", unset: \"${NOT_SET_ANYWHERE}\" }\n",
	})
	cfg := mustLoad(t, map[string]string{
		"config.yml": groupWith("      workflow_dispatch_templates_urls: [" + srv.URL + "/t.yaml]\n"),
	}, LoadOptions{HTTPClient: srv.Client(), LookupEnv: env(map[string]string{"SERVER_SECRET": "hunter2"})})
	in := cfg.GroupsConfig.GitHub[0].AllTemplates()[0].Inputs
	if in["leak"] != "${SERVER_SECRET}" || in["esc"] != "$${X}" || in["unset"] != "${NOT_SET_ANYWHERE}" {
		t.Fatalf("URL template inputs were expanded: %v", in)
	}
}

func TestLocalTemplateFilesAreExpanded(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"config.yml": groupWith("      workflow_dispatch_templates_files: [t.yaml]\n"),
		"t.yaml":     "- { id: f1, owner: \"${OWNER}\", repo: r, workflow_id: w, inputs: { lit: \"$${OWNER}\", hash: \"$2a$10$x\" } }\n",
	}, LoadOptions{LookupEnv: env(map[string]string{"OWNER": "my-org"})})
	tpl := cfg.GroupsConfig.GitHub[0].AllTemplates()[0]
	if tpl.Owner != "my-org" || tpl.Inputs["lit"] != "${OWNER}" || tpl.Inputs["hash"] != "$2a$10$x" {
		t.Fatalf("template = %+v", tpl)
	}
}

func TestURLTemplateProblems(t *testing.T) {
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow.yaml":
			select {
			case <-r.Context().Done():
			case <-slow:
			}
		case "/big.yaml":
			fmt.Fprint(w, "- { id: big, owner: o, repo: r, workflow_id: w }\n"+strings.Repeat("# padding\n", 100))
		case "/bad-key.yaml":
			fmt.Fprint(w, "- id: u\n  owner: o\n  repo: r\n  workflow_id: w\n  branch: main\n")
		case "/error.yaml":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	opts := LoadOptions{HTTPClient: srv.Client(), FetchTimeout: 100 * time.Millisecond, MaxFetchBytes: 200}
	tests := []struct {
		name string
		url  string
		want want
	}{
		{"not found names group and URL", srv.URL + "/missing.yaml", want{"config.yml", 7, `group "g": template URL ` + srv.URL + "/missing.yaml: fetch: HTTP 404"}},
		{"server error", srv.URL + "/error.yaml", want{"config.yml", 7, "HTTP 500"}},
		{"timeout", srv.URL + "/slow.yaml", want{"config.yml", 7, "timed out after 100ms"}},
		{"size cap", srv.URL + "/big.yaml", want{"config.yml", 7, "larger than the 200-byte limit"}},
		{"only http and https", "file:///etc/passwd", want{"config.yml", 7, "only absolute http and https URLs"}},
		{"unknown key inside a URL template is located in the URL", srv.URL + "/bad-key.yaml", want{"bad-key.yaml", 5, `unknown key "branch"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps, _ := loadFiles(t, map[string]string{
				"config.yml": groupWith("      workflow_dispatch_templates_urls:\n        - " + tt.url + "\n"),
			}, opts)
			checkProblems(t, ps, []want{tt.want})
		})
	}
}

func TestFailedURLDoesNotAlsoBlameRunnerScope(t *testing.T) {
	srv := templateServer(t, nil)
	_, ps, _ := loadFiles(t, map[string]string{
		"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      workflow_dispatch_templates_urls: [" + srv.URL + "/gone.yaml]\n",
	}, LoadOptions{HTTPClient: srv.Client()})
	checkProblems(t, ps, []want{{"config.yml", 5, "HTTP 404"}})
}

func TestRunnerScopeDerivedFromAllSources(t *testing.T) {
	srv := templateServer(t, map[string]string{"/t.yaml": "- { id: u1, owner: Other, repo: r, workflow_id: w }\n"})
	_, ps, _ := loadFiles(t, map[string]string{
		"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      workflow_dispatch_templates: [{ id: i1, owner: org, repo: r, workflow_id: w }]\n      workflow_dispatch_templates_urls: [" + srv.URL + "/t.yaml]\n",
	}, LoadOptions{HTTPClient: srv.Client()})
	checkProblems(t, ps, []want{{"config.yml", 3, "different owners"}})

	cfg := mustLoad(t, map[string]string{
		"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      workflow_dispatch_templates: [{ id: i1, owner: other, repo: r, workflow_id: w }]\n      workflow_dispatch_templates_urls: [" + srv.URL + "/t.yaml]\n",
	}, LoadOptions{HTTPClient: srv.Client()})
	if got := cfg.GroupsConfig.GitHub[0].RunnerScope; got != "org:other" {
		t.Fatalf("runner_scope = %q, want org:other (owners compared case-insensitively)", got)
	}
	if k := cfg.GroupsConfig.GitHub[0].AllTemplates()[1].Source.Kind; k != core.SourceURL {
		t.Fatalf("second template source = %q", k)
	}
}

// TestDocsTemplateFileExampleLoads keeps the example template file of
// docs/CONFIG.md honest: it is loaded as a real template file.
func TestDocsTemplateFileExampleLoads(t *testing.T) {
	doc, err := os.ReadFile("../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "Example template file `templates/hoodi.yaml`")
	if !ok {
		t.Fatal("docs/CONFIG.md lost its example template file")
	}
	_, block, _ := strings.Cut(after, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	cfg := mustLoad(t, map[string]string{
		"config.yml":           groupWith("      workflow_dispatch_templates_files: [templates/hoodi.yaml]\n"),
		"templates/hoodi.yaml": block,
	}, LoadOptions{LookupEnv: env(map[string]string{"SYNC_SLACK_CHANNEL": "#sync"})})
	ts := cfg.GroupsConfig.GitHub[0].AllTemplates()
	if len(ts) != 2 || ts[0].Inputs["slack_channel"] != "#sync" || ts[1].Ref != "main" {
		t.Fatalf("templates = %+v", ts)
	}
}
