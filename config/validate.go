package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"golang.org/x/crypto/bcrypt"
)

// validate checks everything decoding cannot: values, combinations and
// uniqueness. Each check reports and carries on, so one run lists it all.
func (l *loader) validate(cfg *Config) {
	f := cfg.File
	l.validateServer(f, &cfg.Server)
	l.validateDatabase(f, &cfg.Database)
	l.validateGitHub(f, &cfg.GitHub)
	for _, d := range []struct {
		path string
		v    time.Duration
	}{
		{"dispatcher.interval", cfg.Dispatcher.Interval},
		{"dispatcher.reconcile_interval", cfg.Dispatcher.ReconcileInterval},
		{"dispatcher.start_timeout", cfg.Dispatcher.StartTimeout},
		{"dispatcher.dispatching_grace", cfg.Dispatcher.DispatchingGrace},
		{"dispatcher.overdue_after", cfg.Dispatcher.OverdueAfter},
		{"dispatcher.redeliver_interval", cfg.Dispatcher.RedeliverInterval},
		{"auth.session_ttl", cfg.Auth.SessionTTL},
		{"auth.github.recheck_interval", cfg.Auth.GitHub.RecheckInterval},
		{"history.cleanup_interval", cfg.History.CleanupInterval},
	} {
		if d.v <= 0 {
			l.at(f, d.path, "must be a positive duration, got %s", d.v)
		}
	}
	for name, n := range map[string]int{"concurrent": cfg.GitHub.Pacing.Concurrent,
		"endpoint_points_per_minute": cfg.GitHub.Pacing.EndpointPointsPerMinute,
		"content_per_minute":         cfg.GitHub.Pacing.ContentPerMinute, "content_per_hour": cfg.GitHub.Pacing.ContentPerHour} {
		if n < 0 {
			l.at(f, "github.pacing."+name, "must be 0 (no limit) or more, got %d", n)
		}
	}
	if cfg.History.AuditRetentionDays < 0 {
		l.at(f, "history.audit_retention_days", "must be 0 (keep forever) or more, got %d", cfg.History.AuditRetentionDays)
	}
	if cfg.History.RetentionDays < 0 {
		l.at(f, "history.retention_days", "must be 0 (keep forever) or more, got %d", cfg.History.RetentionDays)
	}
	l.validateSlashCommands(f, &cfg.SlashCommands)
	l.validateAuth(f, &cfg.Auth)
	if cfg.Auth.GitHub.RecheckInterval > MaxGitHubRecheckInterval {
		l.at(f, "auth.github.recheck_interval", "must be at most %s, got %s", MaxGitHubRecheckInterval, cfg.Auth.GitHub.RecheckInterval)
	}
	l.validateGroups(f, cfg.GroupsConfig.GitHub)
}

func (l *loader) validateServer(f string, s *Server) {
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		l.at(f, "server.listen", "%q is not host:port (for example \":9090\")", s.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.at(f, "server.listen", "%q has no valid port", s.Listen)
	}
	if err := httpURL(s.PublicURL); err != nil {
		l.at(f, "server.public_url", "%v", err)
	}
	for i, origin := range s.CORSOrigins {
		if origin == "*" {
			continue
		}
		if err := exactOrigin(origin); err != nil {
			l.at(f, fmt.Sprintf("server.cors_origins[%d]", i), "%v", err)
		}
	}
	for i, p := range s.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			l.at(f, fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not a CIDR such as 10.0.0.0/8 or an IP address", p)
		}
	}
	if s.PprofListen != "" {
		if _, port, err := net.SplitHostPort(s.PprofListen); err != nil {
			l.at(f, "server.pprof_listen", "%q is not host:port (for example \"127.0.0.1:6060\")", s.PprofListen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			l.at(f, "server.pprof_listen", "%q has no valid port", s.PprofListen)
		}
	}
	for name, d := range map[string]time.Duration{"read_header": s.Timeouts.ReadHeader, "read": s.Timeouts.Read,
		"write": s.Timeouts.Write, "idle": s.Timeouts.Idle, "shutdown": s.Timeouts.Shutdown} {
		if d <= 0 {
			l.at(f, "server.timeouts."+name, "must be more than 0, got %s", d)
		}
	}
	if n := s.Timeouts.MaxHeaderBytes; n < 4<<10 || n > 1<<20 {
		l.at(f, "server.timeouts.max_header_bytes", "must be between 4096 and 1048576, got %d", n)
	}
	for name, rl := range map[string]RateLimit{"auth": s.RateLimit.Auth, "public": s.RateLimit.Public, "authenticated": s.RateLimit.Authenticated,
		"webhook_failures": s.RateLimit.WebhookFailures} {
		if rl.RequestsPerMinute < 0 {
			l.at(f, "server.rate_limit."+name+".requests_per_minute", "must be 0 (no limit) or more, got %d", rl.RequestsPerMinute)
		}
	}
}

// httpURL accepts an absolute http(s) URL without query or fragment.
func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not carry credentials, a query or a fragment", s)
	}
	return nil
}

// exactOrigin accepts scheme://host[:port] and nothing more, because the
// browser's Origin header is compared with it byte for byte.
func exactOrigin(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(s, "?") {
		return fmt.Errorf("%q is not an exact origin such as https://dash.example.com (no path, no trailing slash)", s)
	}
	return nil
}

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

func (l *loader) validateDatabase(f string, d *Database) {
	switch d.Driver {
	case DriverSQLite:
		if d.SQLite.Path == "" || strings.HasPrefix(d.SQLite.Path, ":memory:") {
			l.at(f, "database.sqlite.path", "needs a file path (an in-memory database is not shared between connections)")
		}
	case DriverPostgres:
		p := d.Postgres
		switch {
		case p.DSN != "" && p.Host != "":
			l.at(f, "database.postgres", "set either dsn or host/port/user/password/database, not both")
		case p.DSN == "" && p.Host == "":
			l.at(f, "database.postgres", "driver postgres needs dsn or host")
		}
	default:
		l.at(f, "database.driver", "unknown database driver %q (use sqlite or postgres)", d.Driver)
	}
	if d.Postgres.Port < 0 || d.Postgres.Port > 65535 {
		l.at(f, "database.postgres.port", "%d is not a port", d.Postgres.Port)
	}
	if m := d.Postgres.SSLMode; m != "" && !slices.Contains(sslModes, m) {
		l.at(f, "database.postgres.sslmode", "unknown sslmode %q (one of %s)", m, strings.Join(sslModes, ", "))
	}
}

func (l *loader) validateGitHub(f string, g *GitHub) {
	if err := httpURL(g.WebURL); err != nil {
		l.at(f, "github.web_url", "%v", err)
	}
	if err := httpURL(g.APIURL); err != nil {
		l.at(f, "github.api_url", "%v", err)
	}
	a := g.App
	if a.PrivateKeyPath != "" && a.PrivateKey != "" {
		l.at(f, "github.app.private_key", "set either private_key_path or private_key, not both")
	}
	hasKey := a.PrivateKeyPath != "" || a.PrivateKey != ""
	switch {
	case a.ID < 0:
		l.at(f, "github.app.id", "must be the App's positive numeric id")
	case a.ID != 0 && !hasKey:
		l.at(f, "github.app", "id is set but neither private_key_path nor private_key is")
	case a.ID == 0 && hasKey:
		l.at(f, "github.app.id", "a private key is set but the App id is not")
	}
	if a.Configured() && a.WebhookSecret == "" {
		l.at(f, "github.app.webhook_secret", "required with App credentials: webhooks cannot be verified without it")
	}
	if (a.ClientID == "") != (a.ClientSecret == "") {
		l.at(f, "github.app", "client_id and client_secret go together")
	}
	const pemHint = "-----BEGIN"
	if a.PrivateKey != "" && !strings.Contains(a.PrivateKey.Value(), pemHint) {
		l.at(f, "github.app.private_key", "is not a PEM private key (keep its line breaks when it comes from an environment variable)")
	}
	if a.PrivateKeyPath != "" {
		if b, err := os.ReadFile(a.PrivateKeyPath); err != nil {
			l.at(f, "github.app.private_key_path", "read private key: %v", err)
		} else if !strings.Contains(string(b), pemHint) {
			l.at(f, "github.app.private_key_path", "%s is not a PEM private key", a.PrivateKeyPath)
		}
	}
}

func (l *loader) validateSlashCommands(f string, s *SlashCommands) {
	if !slices.Contains(permissionLevels, s.MinPermission) {
		l.at(f, "slash_commands.min_permission", "unknown permission %q (one of %s)", s.MinPermission, strings.Join(permissionLevels, ", "))
	}
	if s.Enabled && len(s.Repos) == 0 {
		l.at(f, "slash_commands.repos", "slash commands are enabled but no repository is listed (for example \"my-org/*\")")
	}
	for i, r := range s.Repos {
		if _, err := path.Match(r, ""); err != nil || strings.Count(r, "/") != 1 {
			l.at(f, fmt.Sprintf("slash_commands.repos[%d]", i), "%q is not an owner/repo glob such as my-org/*", r)
		}
	}
}

func validRole(r string) bool { return r == RoleAdmin || r == RoleReadonly }

func (l *loader) validateAuth(f string, a *Auth) {
	seen := map[string]bool{}
	for i, u := range a.Basic.Users {
		p := fmt.Sprintf("auth.basic.users[%d]", i)
		switch name := strings.ToLower(u.Username); {
		case name == "":
			l.at(f, p+".username", "username is required")
		case seen[name]:
			l.at(f, p+".username", "duplicate username %q", u.Username)
		default:
			seen[name] = true
		}
		switch {
		case u.Password == "" && u.PasswordHash == "":
			l.at(f, p, "user %q needs password or password_hash", u.Username)
		case u.Password != "" && u.PasswordHash != "":
			l.at(f, p+".password_hash", "user %q sets both password and password_hash; keep one", u.Username)
		case u.PasswordHash != "":
			if _, err := bcrypt.Cost([]byte(u.PasswordHash.Value())); err != nil {
				l.at(f, p+".password_hash", "is not a bcrypt hash ($2a$/$2b$/$2y$...): %v", err)
			}
		}
		if !validRole(u.Role) {
			l.at(f, p+".role", "unknown role %q (admin or readonly)", u.Role)
		}
	}
	for _, m := range []struct {
		path string
		m    map[string]string
	}{{"auth.github.org_role_mapping", a.GitHub.OrgRoleMapping}, {"auth.github.user_role_mapping", a.GitHub.UserRoleMapping}} {
		for k, r := range m.m {
			if !validRole(r) {
				l.at(f, joinPath(m.path, k), "unknown role %q (admin or readonly)", r)
			}
		}
	}
}

// idPattern keeps group and template ids usable in URL paths
// (/groups/{id}, /templates/{id}) and in /dispatch commands.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

var scopePattern = regexp.MustCompile(`^(org:[A-Za-z0-9-]+|repo:[A-Za-z0-9-]+/[A-Za-z0-9._-]+)$`)

func (l *loader) validateGroups(f string, groups []Group) {
	groupAt := map[string]string{}
	type firstTemplate struct{ where, group string }
	templateAt := map[string]firstTemplate{}
	for gi, g := range groups {
		p := fmt.Sprintf("groups.github[%d]", gi)
		switch {
		case g.ID == "":
			l.at(f, p+".id", "group id is required")
		case !idPattern.MatchString(g.ID):
			l.at(f, p+".id", "group id %q may hold only letters, digits, '.', '_' and '-'", g.ID)
		case groupAt[g.ID] != "":
			l.at(f, p+".id", "duplicate group id %q (first at %s)", g.ID, groupAt[g.ID])
		default:
			groupAt[g.ID] = l.where(f, p+".id")
		}
		if len(core.NormalizeLabels(g.RunnerLabels)) == 0 {
			l.at(f, p+".runner_labels", "group %q needs at least one runner label", g.ID)
		}
		if g.MaxConcurrent < 0 {
			l.at(f, p+".max_concurrent", "must be 0 (no limit) or more, got %d", g.MaxConcurrent)
		}
		switch {
		case g.RunnerScope == "" && !l.incomplete[gi]:
			why := "its templates have different owners"
			if len(g.all) == 0 {
				why = "it has no templates"
			}
			l.at(f, p+".runner_scope", "group %q needs runner_scope (org:<org> or repo:<owner>/<repo>): it cannot be derived because %s", g.ID, why)
		case g.RunnerScope != "" && !scopePattern.MatchString(g.RunnerScope):
			l.at(f, p+".runner_scope", "%q is not org:<org> or repo:<owner>/<repo>", g.RunnerScope)
		}
		for _, t := range g.all {
			switch {
			case t.ID == "":
				l.at(t.file, t.path+".id", "template id is required")
			case !idPattern.MatchString(t.ID):
				l.at(t.file, t.path+".id", "template id %q may hold only letters, digits, '.', '_' and '-'", t.ID)
			case templateAt[t.ID].where != "":
				first := templateAt[t.ID]
				l.at(t.file, t.path+".id", "duplicate template id %q in group %q (first at %s in group %q; template ids are global)", t.ID, g.ID, first.where, first.group)
			default:
				templateAt[t.ID] = firstTemplate{l.where(t.file, t.path+".id"), g.ID}
			}
			for _, req := range []struct{ key, val string }{{"owner", t.Owner}, {"repo", t.Repo}, {"workflow_id", t.WorkflowID}} {
				if strings.TrimSpace(req.val) == "" {
					l.at(t.file, t.path+"."+req.key, "template %q: %s is required", t.ID, req.key)
				}
			}
			if strings.Contains(t.Owner, "/") {
				l.at(t.file, t.path+".owner", "owner %q must be a user or organisation login only", t.Owner)
			}
			if strings.Contains(t.Repo, "/") {
				l.at(t.file, t.path+".repo", "repo %q must be the repository name without its owner", t.Repo)
			}
		}
	}
}

// where renders file:line of a path for "first at" hints.
func (l *loader) where(file, path string) string {
	if pos, ok := l.locs[file][path]; ok {
		return fmt.Sprintf("%s:%d", file, pos.line)
	}
	return file
}
