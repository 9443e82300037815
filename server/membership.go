package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v89/github"
	"golang.org/x/oauth2"

	"github.com/ethpandaops/dispatchoor/store"
)

// githubRecheckTimeout bounds one user's re-check (GET /user and every
// page of /user/orgs).
const githubRecheckTimeout = 10 * time.Second

// recheckGitHubUser asks GitHub again for the user's orgs and applies the
// mapping: a user who lost every role is disabled (GetSession then refuses
// their sessions on every replica, and the socket re-check closes their
// WebSockets), a changed role is stored. It reports whether the user still
// has a role; an error means GitHub could not tell (unreachable, a 5xx),
// and the user keeps their role until the next try, so a GitHub outage
// does not log everybody out.
func (s *Server) recheckGitHubUser(ctx context.Context, login string) (bool, error) {
	if s.members == nil {
		return true, errNoMemberToken
	}
	tok, err := s.members.token(ctx, login)
	if errors.Is(err, errNoMemberToken) {
		return s.unheldGitHubUser(ctx, login, err)
	}
	if err != nil {
		return true, err
	}
	// Bounded: a WebSocket handshake waits for this, and the periodic
	// loop must not stall behind one slow answer.
	ctx, cancel := context.WithTimeout(ctx, githubRecheckTimeout)
	defer cancel()
	fresh, err := s.freshToken(ctx, login, tok)
	role := ""
	if err == nil {
		if !fresh.Expiry.Equal(tok.Expiry) || fresh.AccessToken != tok.AccessToken {
			if rerr := s.members.remember(ctx, login, fresh); rerr != nil {
				return true, fmt.Errorf("re-check GitHub membership of %s: %w", login, rerr)
			}
		}
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
		if ferr := s.members.forget(ctx, login); ferr != nil {
			s.log.Warn().Err(ferr).Str("user", login).Msg("forget the GitHub token of a user who lost their role")
		}
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

// unheldGitHubUser decides for a user whose token is not held. A
// GitHub-login user with a live session always has one (login stores it,
// and the upgrade that added the table ended older sessions), so a missing
// or unopenable token means it was lost (another DISPATCHOOR_SECRET_KEY,
// tampering): their sessions end and they log in again, rather than going
// unchecked. Password users have no token and nothing to re-check.
func (s *Server) unheldGitHubUser(ctx context.Context, login string, cause error) (bool, error) {
	u, err := s.store.GetUser(ctx, login)
	if err != nil || u.Source != store.UserSourceGitHub {
		return true, cause
	}
	if _, err := s.store.DeleteUserSessions(ctx, login); err != nil {
		return true, fmt.Errorf("end the sessions of %s, whose GitHub token is lost: %w", login, err)
	}
	s.auditSystem(ctx, "github:"+login, "sessions_ended", map[string]any{"method": "github", "reason": "token not held"})
	s.log.Warn().Err(cause).Str("user", login).Msg("GitHub user's token is not held; sessions ended, the user logs in again")
	return false, nil
}

// freshToken returns the user's token, refreshed when it expired (GitHub
// App user tokens last 8 hours; their refresh tokens are single-use). When
// the refresh is refused, another replica may have refreshed the same
// token a moment before and stored the new one: that one is tried once
// before the refusal counts.
func (s *Server) freshToken(ctx context.Context, login string, tok *oauth2.Token) (*oauth2.Token, error) {
	// Copies: oauth2's token sources write into the token they hand out.
	held := *tok
	fresh, err := s.oauth.conf.TokenSource(ctx, &held).Token()
	var re *oauth2.RetrieveError
	if err == nil || !errors.As(err, &re) {
		return fresh, err
	}
	again, gerr := s.members.token(ctx, login)
	if gerr != nil || again.RefreshToken == tok.RefreshToken {
		return nil, err
	}
	held = *again
	return s.oauth.conf.TokenSource(ctx, &held).Token()
}

// recheckGitHubMembers re-checks the GitHub users whose last check is at
// least staleAfter old. Every replica runs it; the claim in the database
// gives each user to one replica per round.
func (s *Server) recheckGitHubMembers(ctx context.Context, staleAfter time.Duration) {
	logins, err := s.store.ClaimGitHubRechecks(ctx, staleAfter)
	if err != nil {
		s.log.Warn().Err(err).Msg("claim GitHub membership re-checks")
		return
	}
	for _, login := range logins {
		// A user with no live session here or elsewhere has nothing left to
		// lose; their next login checks them afresh.
		if n, err := s.store.CountLiveSessions(ctx, login); err == nil && n == 0 {
			if err := s.members.forget(ctx, login); err != nil {
				s.log.Warn().Err(err).Str("user", login).Msg("forget the GitHub token of a user with no session")
			}
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
