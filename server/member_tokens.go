package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/ethpandaops/dispatchoor/store"
)

// TokenSealer seals the OAuth tokens of GitHub-login users before they are
// stored, and opens them again (secretbox.Box, keyed by
// DISPATCHOOR_SECRET_KEY). additionalData binds a sealed token to its user:
// a row copied to another login does not open.
type TokenSealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// githubMembers keeps the OAuth tokens of the users who logged in through
// GitHub, sealed in the database, so that any replica, and a restarted
// one, can ask GitHub again whether each still holds a mapped org (docs/API.md,
// "GitHub membership re-check").
//
// Why the user's own token and not the App's installation token: GitHub's
// "check organization membership" (GET /orgs/{org}/members/{username})
// needs the App to hold the organization "Members" permission, which the
// App does not ask for, and an installation in every mapped org; the
// user's token answers GET /user/orgs with the same view the login used,
// for any mapped org, and ghsim models exactly that.
type githubMembers struct {
	st  *store.Store
	box TokenSealer
}

// sealedToken is what is sealed: the fields oauth2 needs to use and
// refresh a GitHub App user token.
type sealedToken struct {
	Version      int       `json:"v"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// errNoMemberToken: no token is held for the user (they never logged in
// through GitHub, or their last session ended), so they cannot be
// re-checked; their next login checks them afresh.
var errNoMemberToken = errors.New("no GitHub token held for this user")

func memberTokenAD(login string) []byte { return []byte("dispatchoor/github-user-token/" + login) }

// remember seals and stores the user's token; storing also counts as a
// re-check, since the login or refresh that produced it has just asked
// GitHub.
func (m *githubMembers) remember(ctx context.Context, login string, tok *oauth2.Token) error {
	if tok == nil {
		return nil
	}
	plain, err := json.Marshal(sealedToken{Version: 1, AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry})
	if err != nil {
		return fmt.Errorf("remember GitHub token of %s: %w", login, err)
	}
	sealed, err := m.box.Seal(plain, memberTokenAD(login))
	if err != nil {
		return fmt.Errorf("remember GitHub token of %s: %w", login, err)
	}
	if err := m.st.PutGitHubUserToken(ctx, login, sealed); err != nil {
		return fmt.Errorf("remember GitHub token of %s: %w", login, err)
	}
	return nil
}

// token opens the user's token. errNoMemberToken when none is held; a row
// that does not open (another DISPATCHOOR_SECRET_KEY, tampering) is
// forgotten and reported as not held, so the user is asked to log in again
// rather than kept unchecked.
func (m *githubMembers) token(ctx context.Context, login string) (*oauth2.Token, error) {
	sealed, err := m.st.GetGitHubUserToken(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoMemberToken
	}
	if err != nil {
		return nil, fmt.Errorf("read GitHub token of %s: %w", login, err)
	}
	plain, err := m.box.Open(sealed, memberTokenAD(login))
	var st sealedToken
	if err == nil {
		err = json.Unmarshal(plain, &st)
	}
	if err == nil && (st.Version != 1 || st.AccessToken == "") {
		err = fmt.Errorf("unknown token record version %d", st.Version)
	}
	if err != nil {
		_ = m.forget(ctx, login)
		return nil, fmt.Errorf("open GitHub token of %s (was DISPATCHOOR_SECRET_KEY changed?): %w: %w", login, err, errNoMemberToken)
	}
	return &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken, Expiry: st.Expiry}, nil
}

func (m *githubMembers) forget(ctx context.Context, login string) error {
	return m.st.DeleteGitHubUserToken(ctx, login)
}
