package ghsim

import (
	"crypto/rsa"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// app is a GitHub App known to the simulator.
type app struct {
	ID            int64
	Slug          string
	Name          string
	Owner         string
	Key           *rsa.PublicKey
	ClientID      string
	ClientSecret  string
	WebhookURL    string
	WebhookSecret string
	CreatedAt     time.Time
}

// token is an installation access token or an OAuth user token.
type token struct {
	Value          string
	InstallationID int64  // installation token
	User           string // OAuth user token
	ExpiresAt      time.Time
}

// jwtError is a refusal sent to the client verbatim, worded as GitHub words it.
type jwtError string

func (e jwtError) Error() string { return string(e) }

var errIntegrationNotFound = errors.New("integration not found")

// maxJWTLifetime is GitHub's limit on how far in the future an App JWT's exp
// may lie.
const maxJWTLifetime = 10 * time.Minute

// verifyAppJWT checks an App JWT the way GitHub documents it: RS256 signed by
// the App's key, iss the App id (or its client id), exp in the future but no
// more than 10 minutes ahead. Times are wall-clock: the client signs with its
// own clock, not ours.
func (s *Sim) verifyAppJWT(raw string) (*app, error) {
	var claims jwt.RegisteredClaims
	var found *app
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		c, _ := t.Claims.(*jwt.RegisteredClaims)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, a := range s.apps {
			if c.Issuer == strconv.FormatInt(a.ID, 10) || c.Issuer == a.ClientID {
				found = a
				return a.Key, nil
			}
		}
		return nil, errIntegrationNotFound
	})
	if err != nil {
		if found == nil && errors.Is(err, errIntegrationNotFound) {
			return nil, jwtError("'Issuer' claim ('iss') must be an Integer")
		}
		return nil, jwtError("A JSON web token could not be decoded")
	}
	now := time.Now()
	switch {
	case claims.ExpiresAt == nil || !claims.ExpiresAt.After(now):
		return nil, jwtError("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	case claims.ExpiresAt.Sub(now) > maxJWTLifetime+30*time.Second:
		return nil, jwtError("'Expiration time' claim ('exp') is too far in the future")
	case claims.IssuedAt != nil && claims.IssuedAt.After(now.Add(60*time.Second)):
		return nil, jwtError("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	return found, nil
}

// authenticate checks the credential the route wants, answering 401 (or 403
// for a suspended installation) itself.
func (c *call) authenticate(kind authKind) bool {
	if kind == authNone {
		return true
	}
	h := c.r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	scheme = strings.ToLower(scheme)
	if h == "" || (scheme != "bearer" && scheme != "token") || cred == "" {
		c.fail(http.StatusUnauthorized, "Requires authentication", "")
		return false
	}
	if kind == authAppJWT {
		if strings.Count(cred, ".") != 2 {
			c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded", "")
			return false
		}
		a, err := c.s.verifyAppJWT(cred)
		if err != nil {
			c.fail(http.StatusUnauthorized, err.Error(), "")
			return false
		}
		c.app = a
		return true
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	t, ok := c.s.tokens[cred]
	if !ok || !c.s.clock.Now().Before(t.ExpiresAt) {
		c.fail(http.StatusUnauthorized, "Bad credentials", "")
		return false
	}
	switch kind {
	case authInstallation:
		in, ok := c.s.installations[t.InstallationID]
		if t.InstallationID == 0 || !ok {
			// A user token on an installation-only endpoint, or a token of an
			// uninstalled App: GitHub says the resource is not accessible.
			c.fail(http.StatusForbidden, "Resource not accessible by integration", "")
			return false
		}
		if in.Suspended {
			c.fail(http.StatusForbidden, "This installation has been suspended", "")
			return false
		}
		c.tok, c.ins = t, in
	case authUser:
		if t.User == "" {
			c.fail(http.StatusForbidden, "Resource not accessible by integration", "")
			return false
		}
		c.tok = t
	}
	return true
}

// newToken mints a token; callers hold s.mu.
func (s *Sim) newToken(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return prefix + string(b)
}

// createAccessToken serves POST /app/installations/{id}/access_tokens.
func (c *call) createAccessToken() {
	id, err := strconv.ParseInt(c.r.PathValue("installation_id"), 10, 64)
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installations[id]
	if err != nil || !ok || in.AppID != c.app.ID {
		c.fail(http.StatusNotFound, "Not Found", "/apps/apps#create-an-installation-access-token-for-an-app")
		return
	}
	if in.Suspended {
		c.fail(http.StatusForbidden, "This installation has been suspended", "/apps/apps#create-an-installation-access-token-for-an-app")
		return
	}
	t := &token{Value: s.newToken("ghs_"), InstallationID: id, ExpiresAt: s.clock.Now().Add(s.opts.TokenTTL)}
	s.tokens[t.Value] = t
	body := map[string]any{
		"token": t.Value,
		// Reported in wall-clock time, so a client refreshing "a minute
		// before expires_at" by its own clock does so before the simulated
		// expiry, whatever the speed.
		"expires_at":           s.clock.RealAt(t.ExpiresAt).Format(time.RFC3339),
		"permissions":          appPermissions(),
		"repository_selection": in.selection(),
	}
	c.json(http.StatusCreated, body)
}

// ExpireTokens makes every issued installation and user token expire now,
// as if an hour had passed.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for _, t := range s.tokens {
		t.ExpiresAt = now
	}
}

func (in *Installation) selection() string {
	if in.Repos == nil {
		return "all"
	}
	return "selected"
}

func appPermissions() map[string]any {
	return map[string]any{
		"actions":                          "write",
		"administration":                   "read",
		"issues":                           "write",
		"metadata":                         "read",
		"organization_self_hosted_runners": "read",
		"pull_requests":                    "write",
	}
}

func appEvents() []string {
	return []string{"issue_comment", "workflow_job", "workflow_run"}
}
