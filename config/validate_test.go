package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// want is one expected problem: file (base name), line, and a piece of the
// message.
type want struct {
	file string
	line int
	msg  string
}

func checkProblems(t *testing.T, ps Problems, wants []want) {
	t.Helper()
	for _, w := range wants {
		if !hasProblem(ps, w.file, w.line, w.msg) {
			t.Errorf("missing problem %s:%d: %q", w.file, w.line, w.msg)
		}
	}
	if len(ps) != len(wants) {
		t.Errorf("got %d problems, want %d", len(ps), len(wants))
	}
	if t.Failed() {
		t.Logf("problems:\n%v", ps)
	}
}

func TestProblemClasses(t *testing.T) {
	vars := env(map[string]string{"SET": "x"})
	tests := []struct {
		name  string
		files map[string]string
		wants []want
	}{
		{"unknown top-level key with hint", map[string]string{"config.yml": "servr:\n  listen: \":1\"\n"},
			[]want{{"config.yml", 1, `unknown key "servr" (did you mean "server"?)`}}},
		{"unknown nested key", map[string]string{"config.yml": "server:\n  listen: \":1\"\n  tls: true\n"},
			[]want{{"config.yml", 3, `unknown key "tls"`}}},
		{"unknown key inside an inline template", map[string]string{"config.yml": validGroup + "        - { id: t2, owner: org, repo: r, workflow_id: w, branch: dev }\n"},
			[]want{{"config.yml", 8, `unknown key "branch"`}}},
		{"unknown key inside a template file", map[string]string{
			"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      runner_scope: org:o\n      workflow_dispatch_templates_files: [t.yaml]\n",
			"t.yaml":     "- id: a\n  owner: o\n  repo: r\n  workflow_id: w\n  input: {}\n",
		}, []want{{"t.yaml", 5, `unknown key "input" (did you mean "inputs"?)`}}},
		{"duplicate key in one mapping", map[string]string{"config.yml": "history:\n  retention_days: 1\n  retention_days: 2\n"},
			[]want{{"config.yml", 3, `duplicate key "retention_days" (first at line 2)`}}},
		{"duplicate group ids", map[string]string{"config.yml": validGroup + "    - id: g1\n      runner_labels: [y]\n      runner_scope: org:o\n"},
			[]want{{"config.yml", 8, `duplicate group id "g1"`}}},
		{"duplicate template ids across groups and files", map[string]string{
			"config.yml": validGroup + "    - id: g2\n      runner_labels: [y]\n      workflow_dispatch_templates_files: [more.yaml]\n",
			"more.yaml":  "- { id: t1, owner: org, repo: r, workflow_id: w }\n",
		}, []want{{"more.yaml", 1, `duplicate template id "t1" in group "g2" (first at`}}},
		{"unknown role of a user", map[string]string{"config.yml": "auth:\n  basic:\n    users:\n      - username: a\n        password: p\n        role: superuser\n"},
			[]want{{"config.yml", 6, `unknown role "superuser"`}}},
		{"unknown role in a mapping", map[string]string{"config.yml": "auth:\n  github:\n    org_role_mapping:\n      my-org: owner\n"},
			[]want{{"config.yml", 4, `unknown role "owner"`}}},
		{"bad durations", map[string]string{"config.yml": "dispatcher:\n  interval: 15\n  start_timeout: 1 hour\nauth:\n  session_ttl: -1h\n"},
			[]want{{"config.yml", 2, `invalid duration "15"`}, {"config.yml", 3, `invalid duration "1 hour"`}, {"config.yml", 5, "must be a positive duration"}}},
		{"github membership re-check over 10 minutes", map[string]string{"config.yml": "auth:\n  github:\n    recheck_interval: 11m\n"},
			[]want{{"config.yml", 3, "must be at most 10m0s"}}},
		{"missing owner, repo and workflow_id", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      runner_scope: org:o\n      workflow_dispatch_templates:\n        - id: t\n          ref: main\n"},
			[]want{{"config.yml", 7, "owner is required"}, {"config.yml", 7, "repo is required"}, {"config.yml", 7, "workflow_id is required"}}},
		{"empty runner_labels", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_scope: org:o\n      runner_labels: []\n"},
			[]want{{"config.yml", 5, "needs at least one runner label"}}},
		{"absent runner_labels points at the group", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_scope: org:o\n"},
			[]want{{"config.yml", 3, "needs at least one runner label"}}},
		{"unset environment variable", map[string]string{"config.yml": "auth:\n  basic:\n    users:\n      - username: a\n        password: \"${ADMIN_PASSWORD}\"\n        role: admin\n"},
			[]want{{"config.yml", 5, "environment variable ADMIN_PASSWORD is not set"}}},
		{"unknown database driver", map[string]string{"config.yml": "database:\n  driver: mysql\n"},
			[]want{{"config.yml", 2, `unknown database driver "mysql"`}}},
		{"postgres with dsn and host", map[string]string{"config.yml": "database:\n  driver: postgres\n  postgres:\n    dsn: x\n    host: y\n"},
			[]want{{"config.yml", 4, "not both"}}},
		{"postgres with nothing", map[string]string{"config.yml": "database:\n  driver: postgres\n"},
			[]want{{"config.yml", 2, "needs dsn or host"}}},
		{"bad sslmode", map[string]string{"config.yml": "database:\n  driver: postgres\n  postgres: { host: db, sslmode: maybe }\n"},
			[]want{{"config.yml", 3, `unknown sslmode "maybe"`}}},
		{"bad min_permission", map[string]string{"config.yml": "slash_commands:\n  min_permission: owner\n"},
			[]want{{"config.yml", 2, `unknown permission "owner"`}}},
		{"slash commands on without repos", map[string]string{"config.yml": "slash_commands:\n  enabled: true\n"},
			[]want{{"config.yml", 2, "no repository is listed"}}},
		{"bad repo glob", map[string]string{"config.yml": "slash_commands:\n  repos: [\"my-org\", \"a/[b\"]\n"},
			[]want{{"config.yml", 2, `"my-org" is not an owner/repo glob`}, {"config.yml", 2, `"a/[b" is not an owner/repo glob`}}},
		{"user with neither password nor hash", map[string]string{"config.yml": "auth:\n  basic:\n    users:\n      - username: a\n        role: admin\n"},
			[]want{{"config.yml", 4, "needs password or password_hash"}}},
		{"user with both password and hash", map[string]string{"config.yml": "auth:\n  basic:\n    users:\n      - username: a\n        password: p\n        password_hash: \"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n        role: admin\n"},
			[]want{{"config.yml", 6, "sets both password and password_hash"}}},
		{"password_hash that is not bcrypt", map[string]string{"config.yml": "auth:\n  basic:\n    users:\n      - username: a\n        password_hash: 5f4dcc3b5aa765d61d8327deb882cf99\n        role: readonly\n"},
			[]want{{"config.yml", 5, "is not a bcrypt hash"}}},
		{"duplicate usernames", map[string]string{"config.yml": "auth:\n  basic:\n    users:\n      - { username: a, password: p, role: admin }\n      - { username: A, password: q, role: admin }\n"},
			[]want{{"config.yml", 5, `duplicate username "A"`}}},
		{"negative max_concurrent", map[string]string{"config.yml": validGroup + "      max_concurrent: -1\n"},
			[]want{{"config.yml", 8, "must be 0 (no limit) or more"}}},
		{"public_url not absolute http(s)", map[string]string{"config.yml": "server:\n  public_url: dispatchoor.example.com\n"},
			[]want{{"config.yml", 2, "is not an absolute http(s) URL"}}},
		{"public_url with another scheme", map[string]string{"config.yml": "server:\n  public_url: ftp://x.example.com\n"},
			[]want{{"config.yml", 2, "is not an absolute http(s) URL"}}},
		{"cors origins that are not exact", map[string]string{"config.yml": "server:\n  cors_origins:\n    - \"*\"\n    - https://ok.example.com\n    - https://slash.example.com/\n    - ok.example.com\n    - https://x.example.com/app\n"},
			[]want{{"config.yml", 5, "not an exact origin"}, {"config.yml", 6, "not an exact origin"}, {"config.yml", 7, "not an exact origin"}}},
		{"trusted proxies that are not CIDRs", map[string]string{"config.yml": "server:\n  trusted_proxies: [10.0.0.0/8, 192.168.1.1, fd00::/8, 10.0.0.0/33, proxy.local]\n"},
			[]want{{"config.yml", 2, `"10.0.0.0/33" is not a CIDR`}, {"config.yml", 2, `"proxy.local" is not a CIDR`}}},
		{"pprof_listen that is not host:port", map[string]string{"config.yml": "server:\n  pprof_listen: localhost\n"},
			[]want{{"config.yml", 2, `"localhost" is not host:port`}}},
		{"redeliver_interval that is not positive", map[string]string{"config.yml": "dispatcher:\n  redeliver_interval: 0s\n"},
			[]want{{"config.yml", 2, "must be a positive duration"}}},
		{"app private key set both ways", map[string]string{
			"config.yml": "github:\n  app:\n    id: 1\n    private_key_path: k.pem\n    private_key: \"-----BEGIN RSA PRIVATE KEY-----\"\n    webhook_secret: s\n",
			"k.pem":      "-----BEGIN RSA PRIVATE KEY-----\n",
		}, []want{{"config.yml", 5, "either private_key_path or private_key, not both"}}},
		{"app id without key and lone client id", map[string]string{"config.yml": "github:\n  app:\n    id: 1\n    client_id: abc\n"},
			[]want{{"config.yml", 3, "neither private_key_path nor private_key"}, {"config.yml", 3, "client_id and client_secret go together"}}},
		{"app without webhook secret", map[string]string{"config.yml": "github:\n  app: { id: 1, private_key: \"-----BEGIN KEY-----\" }\n"},
			[]want{{"config.yml", 2, "webhooks cannot be verified"}}},
		{"unreadable private key file", map[string]string{"config.yml": "github:\n  app: { id: 1, private_key_path: missing.pem, webhook_secret: s }\n"},
			[]want{{"config.yml", 2, "read private key"}}},
		{"mixed owners need an explicit scope", map[string]string{"config.yml": validGroup + "        - { id: t2, owner: other, repo: r, workflow_id: w }\n"},
			[]want{{"config.yml", 4, "cannot be derived because its templates have different owners"}}},
		{"no templates and no scope", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n"},
			[]want{{"config.yml", 3, "cannot be derived because it has no templates"}}},
		{"bad runner_scope", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      runner_scope: my-org\n"},
			[]want{{"config.yml", 5, `"my-org" is not org:<org>`}}},
		{"bad ids", map[string]string{"config.yml": "groups:\n  github:\n    - id: \"a b\"\n      runner_labels: [x]\n      workflow_dispatch_templates:\n        - { id: \"t/1\", owner: o, repo: r, workflow_id: w }\n"},
			[]want{{"config.yml", 3, `group id "a b" may hold only`}, {"config.yml", 6, `template id "t/1" may hold only`}}},
		{"repo written with its owner", map[string]string{"config.yml": validGroup + "        - { id: t2, owner: org, repo: org/r, workflow_id: w }\n"},
			[]want{{"config.yml", 8, "without its owner"}}},
		{"wrong kinds", map[string]string{"config.yml": "server:\n  cors_origins: https://x.example.com\n  rate_limit:\n    auth: { requests_per_minute: lots }\n"},
			[]want{{"config.yml", 2, "expected a list, got a scalar"}, {"config.yml", 4, `expected an integer, got "lots"`}}},
		{"negative limits", map[string]string{"config.yml": "server:\n  rate_limit:\n    public: { requests_per_minute: -1 }\nhistory:\n  retention_days: -2\n"},
			[]want{{"config.yml", 3, "must be 0 (no limit) or more"}, {"config.yml", 5, "must be 0 (keep forever) or more"}}},
		{"a value of the wrong kind is reported once", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_scope: org:o\n      runner_labels: self-hosted\n"},
			[]want{{"config.yml", 5, "expected a list, got a scalar"}}},
		{"bad listen", map[string]string{"config.yml": "server:\n  listen: localhost\n"},
			[]want{{"config.yml", 2, "is not host:port"}}},
		// yaml.v3 reports a syntax error at the start of the block it was
		// parsing, not at the offending line.
		{"syntax error", map[string]string{"config.yml": "server:\n  listen: \":1\"\n bad indent: x\n"},
			[]want{{"config.yml", 2, "invalid YAML: did not find expected key"}}},
		{"two documents", map[string]string{"config.yml": "server: {}\n---\nserver: {}\n"},
			[]want{{"config.yml", 2, "only one YAML document"}}},
		{"missing template file", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      workflow_dispatch_templates_files:\n        - nope.yaml\n"},
			[]want{{"config.yml", 6, "read template file"}}},
		{"template file that is not a list", map[string]string{
			"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      runner_scope: org:o\n      workflow_dispatch_templates_files: [t.yaml]\n",
			"t.yaml":     "id: a\nowner: o\n",
		}, []want{{"t.yaml", 1, "expected a list, got a mapping"}}},
		{"unset variable in a template file", map[string]string{
			"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      workflow_dispatch_templates_files: [t.yaml]\n",
			"t.yaml":     "- id: a\n  owner: o\n  repo: r\n  workflow_id: w\n  inputs: { token: \"${SET}-${UNSET_IN_FILE}\" }\n",
		}, []want{{"t.yaml", 5, "UNSET_IN_FILE is not set"}}},
		{"groups with no templates but a scope are fine", map[string]string{"config.yml": "groups:\n  github:\n    - id: g\n      runner_labels: [x]\n      runner_scope: org:o\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps, _ := loadFiles(t, tt.files, LoadOptions{LookupEnv: vars})
			checkProblems(t, ps, tt.wants)
		})
	}
}

// TestFiveMistakesAllReported is the acceptance check of issue 2: five
// different mistakes in one file are all reported, each at its own line,
// and Error() prints them one per line in file:line:col form.
func TestFiveMistakesAllReported(t *testing.T) {
	cfg := `server:
  listen: ":9090"
  colour: blue
dispatcher:
  interval: soon
auth:
  basic:
    users:
      - { username: admin, password: "${ADMIN_PASSWORD}", role: root }
groups:
  github:
    - id: sync
      runner_labels: []
      runner_scope: org:o
`
	_, ps, dir := loadFiles(t, map[string]string{"config.yml": cfg}, LoadOptions{LookupEnv: env(nil)})
	checkProblems(t, ps, []want{
		{"config.yml", 3, `unknown key "colour"`},
		{"config.yml", 5, `invalid duration "soon"`},
		{"config.yml", 9, "ADMIN_PASSWORD is not set"},
		{"config.yml", 9, `unknown role "root"`},
		{"config.yml", 13, "needs at least one runner label"},
	})
	file := filepath.Join(dir, "config.yml")
	wantOut := strings.Join([]string{
		file + `:3:3: server.colour: unknown key "colour"`,
		file + `:5:13: dispatcher.interval: invalid duration "soon": use Go syntax such as 15s, 5m or 1h30m`,
		file + `:9:38: auth.basic.users[0].password: environment variable ADMIN_PASSWORD is not set (write $${ for a literal ${)`,
		file + `:9:65: auth.basic.users[0].role: unknown role "root" (admin or readonly)`,
		file + `:13:22: groups.github[0].runner_labels: group "sync" needs at least one runner label`,
	}, "\n")
	if got := ps.Error(); got != wantOut {
		t.Fatalf("Error() =\n%s\nwant\n%s", got, wantOut)
	}
}

func TestProblemsErrorSortsByFileThenLine(t *testing.T) {
	ps := Problems{
		{File: "b.yml", Line: 1, Column: 1, Path: "x", Msg: "m1"},
		{File: "a.yml", Line: 9, Column: 2, Path: "y", Msg: "m2"},
		{File: "a.yml", Line: 2, Column: 5, Msg: "m3"},
		{File: "https://t.example/x.yaml", Msg: "m4"},
	}
	want := "a.yml:2:5: m3\na.yml:9:2: y: m2\nb.yml:1:1: x: m1\nhttps://t.example/x.yaml: m4"
	if got := ps.Error(); got != want {
		t.Fatalf("Error() =\n%s\nwant\n%s", got, want)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"config.yml": `
database:
  driver: postgres
  postgres: { dsn: "postgres://u:dsn-secret@db/x" }
github:
  app: { id: 1, private_key: "-----BEGIN key-secret", webhook_secret: hook-secret, client_id: c, client_secret: client-secret }
auth:
  basic:
    users: [{ username: a, password: pw-secret, role: admin }]
`}, LoadOptions{})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, *cfg)
		for _, secret := range []string{"dsn-secret", "key-secret", "hook-secret", "client-secret", "pw-secret"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s of Config prints %s", verb, secret)
			}
		}
	}
	if cfg.Database.DSN() != "postgres://u:dsn-secret@db/x" {
		t.Fatalf("DSN() = %q, want the real value", cfg.Database.DSN())
	}
}
