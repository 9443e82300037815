package slash

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/gh"
)

// author is who wrote a comment and what they may do.
type author struct {
	login string
	role  string // repository role, or "admin (mapped)"
	// mappedAdmin: auth.github.user_role_mapping makes them admin.
	mappedAdmin bool
}

func (a author) createdBy() string { return "github:" + a.login }

// atLeast reports whether the author's repository role reaches level.
func (a author) atLeast(level string) bool {
	if a.mappedAdmin {
		return true
	}
	return config.RoleAtLeast(a.role, level)
}

// adminLevel may cancel anyone's job: admin or maintain on the repository,
// or mapped to admin.
func (a author) adminLevel() bool { return a.atLeast("maintain") }

// mappedAdmin reports whether login is mapped to admin. GitHub logins are
// case-insensitive, the mapping's keys are whatever the operator typed.
func (s *Service) mappedAdmin(login string) bool {
	for k, v := range s.opts.UserRoleMapping {
		if strings.EqualFold(k, login) && strings.EqualFold(v, "admin") {
			return true
		}
	}
	return false
}

// authorise finds the author's role. A login GitHub does not know as a user
// of the repository (404) has no role.
func (s *Service) authorise(ctx context.Context, c Comment) (author, error) {
	a := author{login: c.Author}
	if s.mappedAdmin(c.Author) {
		a.mappedAdmin, a.role = true, "admin"
		return a, nil
	}
	key := strings.ToLower(strconv.FormatInt(c.InstallationID, 10) + "/" + c.Owner + "/" + c.Repo + "/" + c.Author)
	if role, ok := s.perms.get(key); ok {
		a.role = role
		return a, nil
	}
	role, err := s.opts.GitHub.CollaboratorPermission(ctx, c.InstallationID, c.Owner, c.Repo, c.Author)
	var apiErr *gh.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		role, err = "none", nil
	}
	if err != nil {
		return a, err
	}
	s.perms.put(key, role)
	a.role = role
	return a, nil
}

// permCache keeps permissions briefly: a comment with ten commands, or a
// burst of comments by one person, costs one lookup, and a revoked
// permission still takes effect within the TTL.
type permCache struct {
	clock Clock
	ttl   time.Duration
	mu    sync.Mutex
	m     map[string]permEntry
}

type permEntry struct {
	role    string
	expires time.Time
}

func newPermCache(c Clock, ttl time.Duration) *permCache {
	return &permCache{clock: c, ttl: ttl, m: map[string]permEntry{}}
}

func (p *permCache) get(key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[key]
	if !ok || !p.clock.Now().Before(e.expires) {
		return "", false
	}
	return e.role, true
}

func (p *permCache) put(key, role string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if len(p.m) > 10_000 {
		for k, e := range p.m {
			if !now.Before(e.expires) {
				delete(p.m, k)
			}
		}
	}
	p.m[key] = permEntry{role: role, expires: now.Add(p.ttl)}
}
