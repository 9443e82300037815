package config

import (
	"net"
	"path/filepath"
	"strings"
)

// DefaultRef is the ref a template dispatches when it names none.
const DefaultRef = "main"

// complete fills in defaults that depend on other values and normalises
// URLs, after decoding and before validation.
func (l *loader) complete(cfg *Config) {
	s := &cfg.Server
	if s.PublicURL == "" {
		s.PublicURL = publicURLFor(s.Listen)
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	cfg.GitHub.WebURL = strings.TrimRight(cfg.GitHub.WebURL, "/")
	if u := cfg.GitHub.APIURL; u != "" && !strings.HasSuffix(u, "/") {
		cfg.GitHub.APIURL = u + "/" // go-github refuses a base URL without it
	}
	if p := cfg.GitHub.App.PrivateKeyPath; p != "" && !filepath.IsAbs(p) {
		cfg.GitHub.App.PrivateKeyPath = filepath.Join(l.dir, p)
	}
	for gi := range cfg.GroupsConfig.GitHub {
		g := &cfg.GroupsConfig.GitHub[gi]
		if g.Name == "" {
			g.Name = g.ID
		}
		for ti := range g.all {
			t := &g.all[ti]
			if t.Name == "" {
				t.Name = t.ID
			}
			if t.Ref == "" {
				t.Ref = DefaultRef
			}
			if t.Inputs == nil {
				t.Inputs = map[string]string{}
			}
			if t.Labels == nil {
				t.Labels = map[string]string{}
			}
		}
		if g.RunnerScope == "" {
			g.RunnerScope = derivedScope(g.all)
		}
	}
}

// derivedScope is "org:<owner>" when every template shares one owner
// (GitHub logins are case-insensitive), and empty otherwise.
func derivedScope(ts []Template) string {
	if len(ts) == 0 {
		return ""
	}
	owner := ts[0].Owner
	for _, t := range ts[1:] {
		if !strings.EqualFold(t.Owner, owner) {
			return ""
		}
	}
	if owner == "" {
		return ""
	}
	return "org:" + owner
}

// publicURLFor guesses where a server listening on listen is reached from
// the same machine; anything else must be configured.
func publicURLFor(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://localhost:9090"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
