package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"
	"golang.org/x/oauth2"

	"github.com/ethpandaops/dispatchoor/store"
)

// githubMembers holds the OAuth tokens of the GitHub users who logged in
// through this process, so their org membership can be asked of GitHub
// again (docs/API.md, "GitHub membership re-check").
//
// Why the user's own token and not the App's installation token: GitHub's
// "check organization membership" (GET /orgs/{org}/members/{username})
// needs the App to hold the organization "Members" permission, which the
// App does not ask for, and an installation in every mapped org; the
// user's token answers GET /user/orgs with the same view the login used,
// for any mapped org, and ghsim models exactly that. The tokens live in
// this process's memory only (never in the database, so there is nothing
// to seal); the price is that a user who logged in through another
// replica, or before a restart, is re-checked only by that replica or at
// their next login (docs/API.md says so).
type githubMembers struct {
	mu     sync.Mutex
	tokens map[string]*oauth2.Token // login → token
}

func newGitHubMembers() *githubMembers {
	return &githubMembers{tokens: map[string]*oauth2.Token{}}
}

func (m *githubMembers) remember(login string, tok *oauth2.Token) {
	if tok == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[login] = tok
}

func (m *githubMembers) token(login string) (*oauth2.Token, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[login]
	return t, ok
}

func (m *githubMembers) forget(login string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, login)
}

func (m *githubMembers) logins() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.tokens))
	for l := range m.tokens {
		out = append(out, l)
	}
	return out
}

// githubRecheckTimeout bounds one user's re-check (GET /user and every
// page of /user/orgs).
const githubRecheckTimeout = 10 * time.Second

// errNoMemberToken: this process holds no token for the user, so it
// cannot re-check them.
var errNoMemberToken = errors.New("no GitHub token held for this user")

// recheckGitHubUser asks GitHub again for the user's orgs and applies the
// mapping: a user who lost every role is disabled (GetSession then refuses
// their sessions on every replica, and the socket re-check closes their
// WebSockets), a changed role is stored. It reports whether the user still
// has a role; an error means GitHub could not tell (unreachable, a 5xx),
// and the user keeps their role until the next try, so a GitHub outage
// does not log everybody out.
func (s *Server) recheckGitHubUser(ctx context.Context, login string) (bool, error) {
	tok, ok := s.members.token(login)
	if !ok {
		return true, errNoMemberToken
	}
	// Bounded: a WebSocket handshake waits for this, and the periodic
	// loop must not stall behind one slow answer.
	ctx, cancel := context.WithTimeout(ctx, githubRecheckTimeout)
	defer cancel()
	// TokenSource refreshes an expiring user token (GitHub App user
	// tokens last 8 hours) with its refresh token.
	// Copies: oauth2's token sources write into the token they hand out,
	// and a WebSocket handshake may re-check the same user concurrently.
	held := *tok
	fresh, err := s.oauth.conf.TokenSource(ctx, &held).Token()
	role := ""
	if err == nil {
		s.members.remember(login, fresh)
		var got string
		var orgs []string
		use := *fresh
		got, orgs, err = s.oauth.lookup(ctx, oauth2.StaticTokenSource(&use))
		if err == nil && got != login {
			err = fmt.Errorf("token of %s now belongs to %s", login, got)
		}
		if err == nil {
			role = s.oauth.roleFor(login, orgs)
		}
	}
	if err != nil && !tokenRefused(err) {
		return true, fmt.Errorf("re-check GitHub membership of %s: %w", login, err)
	}
	if role == "" {
		// Unmapped, or the user revoked the App's authorization.
		s.members.forget(login)
		if derr := s.store.DisableUser(ctx, login); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return false, fmt.Errorf("disable %s, who lost their GitHub role: %w", login, derr)
		}
		s.auditSystem(ctx, "github:"+login, "role_lost", map[string]any{"method": "github"})
		s.log.Info().Str("user", login).Msg("GitHub user lost their dispatchoor role; sessions ended")
		return false, nil
	}
	if u, err := s.store.GetUser(ctx, login); err == nil && u.Role != role && !u.Disabled {
		if err := s.store.UpsertGitHubUser(ctx, login, role); err != nil {
			return true, fmt.Errorf("store new role of %s: %w", login, err)
		}
		s.auditSystem(ctx, "github:"+login, "role_changed", map[string]any{"method": "github", "role": role})
	}
	return true, nil
}

// tokenRefused reports whether GitHub refused the user's token (revoked,
// or the App's authorization removed), which ends the role like an
// unmapped org does.
func tokenRefused(err error) bool {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusUnauthorized {
		return true
	}
	var re *oauth2.RetrieveError
	return errors.As(err, &re)
}

// recheckGitHubMembers re-checks every held GitHub user once per interval.
func (s *Server) recheckGitHubMembers(ctx context.Context) {
	for _, login := range s.members.logins() {
		// A user with no live session here or elsewhere has nothing left to
		// lose; their next login checks them afresh.
		if n, err := s.store.CountLiveSessions(ctx, login); err == nil && n == 0 {
			s.members.forget(login)
			continue
		}
		if _, err := s.recheckGitHubUser(ctx, login); err != nil {
			s.log.Warn().Err(err).Str("user", login).Msg("GitHub membership re-check failed; role kept until the next try")
		}
	}
}

// auditSystem appends an audit entry for something no request did.
func (s *Server) auditSystem(ctx context.Context, actor, action string, details map[string]any) {
	if _, err := s.store.AppendAudit(ctx, store.AuditEntry{Actor: actor, Action: action, Details: details}); err != nil {
		s.log.Error().Err(err).Str("action", action).Str("actor", actor).Msg("audit log write failed")
	}
}
