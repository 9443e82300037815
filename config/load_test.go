package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

var exampleEnv = map[string]string{
	"GITHUB_APP_PRIVATE_KEY":   "-----BEGIN RSA PRIVATE KEY-----\nMII...\n-----END RSA PRIVATE KEY-----\n",
	"GITHUB_WEBHOOK_SECRET":    "whsec",
	"GITHUB_APP_CLIENT_ID":     "Iv1.abc",
	"GITHUB_APP_CLIENT_SECRET": "cs",
	"ADMIN_PASSWORD":           "hunter2",
}

func TestExampleConfigValidatesClean(t *testing.T) {
	cfg, err := Load(context.Background(), "../config.example.yml", LoadOptions{LookupEnv: env(exampleEnv)})
	if err != nil {
		t.Fatalf("config.example.yml has problems:\n%v", err)
	}
	if got := cfg.GitHub.App.WebhookSecret.Value(); got != "whsec" {
		t.Fatalf("webhook_secret = %q, want the expanded variable", got)
	}
	if got := cfg.Auth.Basic.Users[1].PasswordHash.Value(); !strings.HasPrefix(got, "$2a$10$") {
		t.Fatalf("bcrypt hash was altered by expansion: %q", got)
	}
	groups, templates := cfg.Groups()
	if len(groups) != 1 || len(templates) != 1 || templates[0].GroupID != "sync-tests" {
		t.Fatalf("example groups = %+v templates = %+v", groups, templates)
	}
}

func TestExampleConfigUnsetVariableIsAProblem(t *testing.T) {
	vars := map[string]string{}
	for k, v := range exampleEnv {
		vars[k] = v
	}
	delete(vars, "ADMIN_PASSWORD")
	_, err := Load(context.Background(), "../config.example.yml", LoadOptions{LookupEnv: env(vars)})
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(ps[0].Msg, "ADMIN_PASSWORD is not set") || ps[0].Line == 0 {
		t.Fatalf("want exactly one located ADMIN_PASSWORD problem, got %v", err)
	}
}

// yamlKeys lists every key path of a config type, e.g. "server.listen".
func yamlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		full := joinPath(prefix, name)
		out = append(out, full)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			if ft.Kind() == reflect.Struct {
				full += "[]"
			}
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) {
			out = append(out, yamlKeys(ft, full)...)
		}
	}
	return out
}

func TestEveryKeyIsDocumented(t *testing.T) {
	example, err := os.ReadFile("../config.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	reference, err := os.ReadFile("../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeOf(Config{}), "") {
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(example), leaf+":") {
			t.Errorf("config.example.yml does not mention %s", key)
		}
		row := "| `" + key + "` |"
		if rest, ok := strings.CutPrefix(key, "groups.github[].workflow_dispatch_templates[]."); ok {
			row = "| `" + rest + "` |" // the template table
		}
		if !strings.Contains(string(reference), row) {
			t.Errorf("docs/CONFIG.md has no row %s", row)
		}
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(*Config) error
	}{
		{"empty file gets every default", "", func(c *Config) error {
			want := Default()
			want.File = c.File
			if !reflect.DeepEqual(c, want) {
				return fmt.Errorf("got %+v\nwant %+v", c, want)
			}
			return nil
		}},
		{"dispatcher block without enabled keeps dispatching on", "dispatcher:\n  interval: 5s\n", func(c *Config) error {
			if !c.Dispatcher.Enabled || c.Dispatcher.Interval != 5*time.Second || c.Dispatcher.ReconcileInterval != 5*time.Minute {
				return fmt.Errorf("dispatcher = %+v", c.Dispatcher)
			}
			return nil
		}},
		{"dispatcher enabled null keeps the default", "dispatcher:\n  enabled:\n", func(c *Config) error {
			if !c.Dispatcher.Enabled {
				return errors.New("enabled: (null) turned the dispatcher off")
			}
			return nil
		}},
		{"dispatcher can be switched off", "dispatcher: { enabled: false }\n", func(c *Config) error {
			if c.Dispatcher.Enabled {
				return errors.New("enabled: false ignored")
			}
			return nil
		}},
		{"documented default values", "", func(c *Config) error {
			got := []any{c.Server.Listen, c.Server.PublicURL, c.Auth.SessionTTL, c.History.RetentionDays, c.History.CleanupInterval,
				c.Server.RateLimit.Auth.RequestsPerMinute, c.Server.RateLimit.Public.RequestsPerMinute, c.Server.RateLimit.Authenticated.RequestsPerMinute,
				c.Database.Driver, c.Database.SQLite.Path, c.GitHub.WebURL, c.GitHub.APIURL, c.SlashCommands.MinPermission, c.Dispatcher.StartTimeout}
			want := []any{":9090", "http://localhost:9090", 24 * time.Hour, 30, time.Hour, 10, 120, 600,
				"sqlite", "./dispatchoor.db", "https://github.com", "https://api.github.com/", "write", 30 * time.Minute}
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("got %v, want %v", got, want)
			}
			return nil
		}},
		{"public_url follows listen", "server: { listen: \"127.0.0.1:8080\" }\n", func(c *Config) error {
			if c.Server.PublicURL != "http://127.0.0.1:8080" {
				return fmt.Errorf("public_url = %q", c.Server.PublicURL)
			}
			return nil
		}},
		{"GHES api_url gains its trailing slash", "github: { web_url: \"https://ghe.example.com/\", api_url: \"https://ghe.example.com/api/v3\" }\n", func(c *Config) error {
			if c.GitHub.APIURL != "https://ghe.example.com/api/v3/" || c.GitHub.WebURL != "https://ghe.example.com" {
				return fmt.Errorf("web_url=%q api_url=%q", c.GitHub.WebURL, c.GitHub.APIURL)
			}
			return nil
		}},
		{"group and template names, ref and scope derive", validGroup, func(c *Config) error {
			g := c.GroupsConfig.GitHub[0]
			tpl := g.AllTemplates()[0]
			if g.Name != "g1" || g.RunnerScope != "org:org" || tpl.Name != "t1" || tpl.Ref != "main" {
				return fmt.Errorf("group %+v template %+v", g, tpl)
			}
			return nil
		}},
		{"integer-looking inputs stay strings", validGroup + "        - { id: t2, owner: org, repo: r, workflow_id: 1234, inputs: { count: 5, on: true } }\n", func(c *Config) error {
			in := c.GroupsConfig.GitHub[0].AllTemplates()[1].Inputs
			if in["count"] != "5" || in["on"] != "true" {
				return fmt.Errorf("inputs = %v", in)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps, _ := loadFiles(t, map[string]string{"config.yml": tt.yaml}, LoadOptions{})
			if ps != nil {
				t.Fatalf("problems:\n%v", ps)
			}
			if err := tt.check(cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMergeKeysApply(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"config.yml": `
groups:
  github:
    - id: g1
      runner_labels: [x]
      workflow_dispatch_templates:
        - &base { id: t1, owner: org, repo: r, workflow_id: ci.yml, inputs: { a: "1" } }
        - { <<: *base, id: t2, ref: dev }
`}, LoadOptions{})
	t2 := cfg.GroupsConfig.GitHub[0].AllTemplates()[1]
	if t2.ID != "t2" || t2.Owner != "org" || t2.Ref != "dev" || t2.Inputs["a"] != "1" {
		t.Fatalf("merged template = %+v", t2)
	}
}

func TestGroupsConvertsToCore(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"config.yml": `
groups:
  github:
    - id: g1
      name: Group One
      runner_labels: [Self-Hosted, " GPU ", self-hosted]
      max_concurrent: 3
      runner_scope: repo:org/r
      workflow_dispatch_templates:
        - { id: t1, owner: org, repo: r, workflow_id: ci.yml, labels: { el: geth } }
`}, LoadOptions{})
	groups, templates := cfg.Groups()
	wantGroup := core.Group{ID: "g1", Name: "Group One", RunnerLabels: []string{"self-hosted", "gpu"}, RunnerScope: "repo:org/r", MaxConcurrent: 3, Enabled: true}
	if len(groups) != 1 || !reflect.DeepEqual(groups[0], wantGroup) {
		t.Fatalf("groups = %+v, want %+v", groups, wantGroup)
	}
	wantTpl := core.Template{ID: "t1", GroupID: "g1", Name: "t1", Owner: "org", Repo: "r", WorkflowID: "ci.yml", Ref: "main",
		Inputs: map[string]string{}, Labels: map[string]string{"el": "geth"}, Source: core.TemplateSource{Kind: core.SourceInline}}
	if len(templates) != 1 || !reflect.DeepEqual(templates[0], wantTpl) {
		t.Fatalf("templates = %+v, want %+v", templates, wantTpl)
	}
}

func TestPrivateKeyPathIsRelativeToConfigFile(t *testing.T) {
	cfg, ps, dir := loadFiles(t, map[string]string{
		"config.yml":   "github:\n  app: { id: 1, private_key_path: keys/app.pem, webhook_secret: s }\n",
		"keys/app.pem": "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n",
	}, LoadOptions{})
	if ps != nil {
		t.Fatalf("problems:\n%v", ps)
	}
	if want := filepath.Join(dir, "keys/app.pem"); cfg.GitHub.App.PrivateKeyPath != want {
		t.Fatalf("private_key_path = %q, want %q", cfg.GitHub.App.PrivateKeyPath, want)
	}
}

func TestLoadMissingFileIsAPlainError(t *testing.T) {
	_, err := Load(context.Background(), filepath.Join(t.TempDir(), "nope.yml"), NewLoadOptions())
	var ps Problems
	if err == nil || errors.As(err, &ps) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestHostileAliasesStopQuickly(t *testing.T) {
	tests := map[string]string{
		"self-merging anchor":      "server: &a {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], listen: \":1\"}\n",
		"mutually merging anchors": "server: &a {<<: &b {<<: [*a, *a], listen: \":2\"}, public_url: \"http://x\"}\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Parse(context.Background(), "x.yml", []byte(doc), LoadOptions{})
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil && len(err.Error()) > 10_000 {
					t.Fatalf("a few lines of YAML produced %d bytes of problems", len(err.Error()))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Parse did not return within 10s")
			}
		})
	}
}

func TestNewLoadOptionsReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("DISPATCHOOR_TEST_LISTEN", ":7070")
	dir := writeFiles(t, map[string]string{"config.yml": "server:\n  listen: \"${DISPATCHOOR_TEST_LISTEN}\"\n"})
	cfg, err := Load(context.Background(), filepath.Join(dir, "config.yml"), NewLoadOptions())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != ":7070" || cfg.File != filepath.Join(dir, "config.yml") {
		t.Fatalf("listen = %q, file = %q", cfg.Server.Listen, cfg.File)
	}
}
