package config

import (
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
)

// DSN returns what the configured driver opens: the SQLite file path or the
// PostgreSQL connection string.
func (d Database) DSN() string {
	if d.Driver == DriverPostgres {
		return d.Postgres.ConnString()
	}
	return d.SQLite.Path
}

// ConnString returns dsn when set, otherwise a postgres:// URL built from the
// parts with every part escaped (a password may hold '@' or '/').
func (p Postgres) ConnString() string {
	if p.DSN != "" {
		return p.DSN.Value()
	}
	u := url.URL{Scheme: "postgres", Host: p.Host, Path: "/" + p.Database}
	if p.Port != 0 {
		u.Host = p.Host + ":" + strconv.Itoa(p.Port)
	}
	if p.User != "" {
		if p.Password != "" {
			u.User = url.UserPassword(p.User, p.Password.Value())
		} else {
			u.User = url.User(p.User)
		}
	}
	if p.SSLMode != "" {
		u.RawQuery = url.Values{"sslmode": {p.SSLMode}}.Encode()
	}
	return u.String()
}

// TrustedProxyPrefixes parses trusted_proxies; a bare address is a
// single-address prefix. Load has already refused anything unparsable.
func (s Server) TrustedProxyPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(s.TrustedProxies))
	for _, p := range s.TrustedProxies {
		if pfx, err := parsePrefix(p); err == nil {
			out = append(out, pfx)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AllowsRepo reports whether /dispatch commands are accepted in owner/repo.
// GitHub names are case-insensitive, so matching is too.
func (s SlashCommands) AllowsRepo(owner, repo string) bool {
	full := strings.ToLower(owner + "/" + repo)
	for _, pat := range s.Repos {
		if ok, _ := path.Match(strings.ToLower(pat), full); ok {
			return true
		}
	}
	return false
}

// Permits reports whether a repository role (GitHub's role_name: read,
// triage, write, maintain, admin) reaches min_permission. Custom repository
// roles and "none" never do; callers map those through their base role first.
func (s SlashCommands) Permits(role string) bool { return RoleAtLeast(role, s.MinPermission) }

// RoleAtLeast reports whether a repository role reaches level, both named as
// GitHub names them, in any case. This is the one ranking of repository
// roles; an unknown role or level (none, custom roles) never reaches.
func RoleAtLeast(role, level string) bool {
	have := slices.Index(permissionLevels, strings.ToLower(role))
	need := slices.Index(permissionLevels, strings.ToLower(level))
	return have >= 0 && need >= 0 && have >= need
}

// Groups converts the configuration into core values for the store: every
// group enabled, runner labels normalised, each template carrying its
// group's id and its source.
func (c *Config) Groups() ([]core.Group, []core.Template) {
	groups := make([]core.Group, 0, len(c.GroupsConfig.GitHub))
	var templates []core.Template
	for _, g := range c.GroupsConfig.GitHub {
		groups = append(groups, core.Group{
			ID:            g.ID,
			Name:          g.Name,
			RunnerLabels:  core.NormalizeLabels(g.RunnerLabels),
			RunnerScope:   g.RunnerScope,
			MaxConcurrent: g.MaxConcurrent,
			Enabled:       true,
		})
		for _, t := range g.all {
			templates = append(templates, core.Template{
				ID:         t.ID,
				GroupID:    g.ID,
				Name:       t.Name,
				Owner:      t.Owner,
				Repo:       t.Repo,
				WorkflowID: t.WorkflowID,
				Ref:        t.Ref,
				Inputs:     cloneMap(t.Inputs),
				Labels:     cloneMap(t.Labels),
				Source:     t.Source,
			})
		}
	}
	return groups, templates
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
