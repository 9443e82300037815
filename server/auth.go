package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store"
)

const (
	roleAdmin    = store.RoleAdmin
	roleReadonly = store.RoleReadonly

	sessionCookie = "dispatchoor_session"
	// csrfHeader must accompany every unsafe request authenticated by the
	// session cookie (and login/logout). A cross-site form or image cannot
	// set a custom header, and a cross-site fetch that sets one needs a CORS
	// preflight, which only the configured origins pass.
	csrfHeader = "X-Requested-With"
	csrfValue  = "dispatchoor"
	// tokenPrefix makes API tokens recognisable to secret scanners.
	tokenPrefix = "dpt_"
)

type principalKind string

const (
	kindSession principalKind = "session"
	kindToken   principalKind = "token"
)

// principal is who is calling: a logged-in user or an API token.
type principal struct {
	Name    string
	Role    string
	Kind    principalKind
	session store.SecretHash
	// seen is the session's stored last use (last_seen_at).
	seen    time.Time
	tokenID int64
}

// newSecret returns 256 random bits, URL-safe.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authenticate finds the caller from the Authorization header or the session
// cookie. Tokens are never read from the query string: URLs end up in logs,
// browser history and Referer headers.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	if s.store == nil {
		return nil, errUnavailable("authentication")
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return nil, &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Msg: "Authorization must be \"Bearer <api token>\""}
		}
		t, err := s.store.GetTokenByHash(r.Context(), store.HashSecret(strings.TrimSpace(tok)))
		if errors.Is(err, store.ErrNotFound) {
			return nil, &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Msg: "unknown or revoked API token"}
		}
		if err != nil {
			return nil, err
		}
		return &principal{Name: "token:" + t.Name, Role: t.Role, Kind: kindToken, tokenID: t.ID}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errUnauthenticated
	}
	h := store.HashSecret(c.Value)
	sess, err := s.store.GetSession(r.Context(), h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Msg: "session expired or ended; log in again"}
	}
	if err != nil {
		return nil, err
	}
	return &principal{Name: sess.Username, Role: sess.Role, Kind: kindSession, session: h, seen: sess.LastSeenAt}, nil
}

func (s *Server) auditTokenUse(r *http.Request, p *principal) {
	ctx := r.Context()
	if err := s.store.TouchToken(ctx, p.tokenID); err != nil {
		s.log.Warn().Err(err).Int64("token", p.tokenID).Msg("record token use")
	}
	s.audit(r, p.Name, "token_use", r.Method+" "+r.URL.Path, nil)
}

// audit appends to the audit log; a failure is logged, never shown to the
// caller, whose action already happened.
func (s *Server) audit(r *http.Request, actor, action, target string, details map[string]any) {
	_, err := s.store.AppendAudit(r.Context(), store.AuditEntry{
		Actor: actor, Action: action, Target: target, Details: details, ClientAddr: s.clientIP.of(r),
	})
	if err != nil {
		s.log.Error().Err(err).Str("action", action).Str("actor", actor).Msg("audit log write failed")
	}
}

// basicUsers are the configured username/password users, with bcrypt
// hashes only: plaintext passwords are hashed at start-up and dropped.
type basicUsers struct {
	enabled bool
	byName  map[string]basicUser
	// dummy is compared against for unknown users, so that a login for a
	// name that does not exist costs as much as one that does.
	dummy []byte
}

type basicUser struct {
	role string
	hash []byte
}

func newBasicUsers(c config.BasicAuth, cost int, log zerolog.Logger) *basicUsers {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	u := &basicUsers{enabled: c.Enabled, byName: map[string]basicUser{}}
	dummyCost := cost
	for _, cu := range c.Users {
		var hash []byte
		switch {
		case cu.PasswordHash != "":
			hash = []byte(cu.PasswordHash.Value())
			if hc, err := bcrypt.Cost(hash); err == nil && hc > dummyCost {
				dummyCost = hc
			}
		default:
			h, err := bcrypt.GenerateFromPassword([]byte(cu.Password.Value()), cost)
			if err != nil {
				// bcrypt refuses passwords over 72 bytes; config validation
				// should have, too. The user simply cannot log in.
				log.Error().Err(err).Str("user", cu.Username).Msg("cannot hash the configured password; this user cannot log in")
				continue
			}
			hash = h
		}
		u.byName[cu.Username] = basicUser{role: cu.Role, hash: hash}
	}
	u.dummy, _ = bcrypt.GenerateFromPassword([]byte("dispatchoor-dummy-password"), dummyCost)
	return u
}

// storeUsers lists the users SyncBasicUsers must keep enabled; with basic
// auth disabled that is nobody.
func (b *basicUsers) storeUsers() []store.BasicUser {
	out := []store.BasicUser{}
	if !b.enabled {
		return out
	}
	for name, u := range b.byName {
		out = append(out, store.BasicUser{Username: name, Role: u.role})
	}
	return out
}

// check reports whether the password is right, in time independent of
// whether the user exists.
func (b *basicUsers) check(username, password string) (basicUser, bool) {
	u, known := b.byName[username]
	hash := b.dummy
	if known {
		hash = u.hash
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return u, ok && known && b.enabled
}

func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || (s.publicURL != nil && s.publicURL.Scheme == "https")
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode,
	})
}

// startSession creates a session for an enabled user and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, username string) (store.Session, error) {
	raw := newSecret()
	sess, err := s.store.CreateSession(r.Context(), store.Session{
		Hash: store.HashSecret(raw), Username: username,
		ExpiresAt: s.now().Add(s.cfg.Auth.SessionTTL), UserAgent: r.UserAgent(),
	})
	if err != nil {
		return store.Session{}, err
	}
	s.setSessionCookie(w, r, raw, sess.ExpiresAt)
	return sess, nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type meResponse struct {
	Username  string     `json:"username"`
	Role      string     `json:"role"`
	Auth      string     `json:"auth"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	// Login CSRF: a cross-site form must not log a victim into our account.
	// Only a valid API token proves the request is not such a form; any
	// other Authorization header (Basic, a made-up Bearer) proves nothing,
	// so without a token the CSRF header is required.
	if r.Header.Get(csrfHeader) != csrfValue {
		if p, err := s.authenticate(r); err != nil || p.Kind != kindToken {
			return errCSRF
		}
	}
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Username == "" {
		return badRequest("username", "is required")
	}
	if req.Password == "" {
		return badRequest("password", "is required")
	}
	if !s.users.enabled {
		return &apiError{Status: http.StatusNotFound, Code: "not_enabled", Msg: "password login is not enabled"}
	}
	if !s.started.Load() {
		return errUnavailable("login (server still starting)")
	}
	_, ok := s.users.check(req.Username, req.Password)
	if !ok {
		s.audit(r, req.Username, "login_failed", "", map[string]any{"method": "basic"})
		return &apiError{Status: http.StatusUnauthorized, Code: "invalid_credentials", Msg: "wrong username or password"}
	}
	sess, err := s.startSession(w, r, req.Username)
	if errors.Is(err, store.ErrNotFound) {
		// Configured but disabled in the store: Start has not synced it.
		s.audit(r, req.Username, "login_failed", "", map[string]any{"method": "basic", "reason": "user disabled"})
		return &apiError{Status: http.StatusUnauthorized, Code: "invalid_credentials", Msg: "wrong username or password"}
	}
	if err != nil {
		return err
	}
	s.audit(r, req.Username, "login", "", map[string]any{"method": "basic"})
	writeJSON(w, http.StatusOK, meResponse{Username: sess.Username, Role: sess.Role, Auth: string(kindSession), ExpiresAt: &sess.ExpiresAt})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if p.Kind != kindSession {
		return badRequest("", "API tokens do not log out; revoke them with DELETE /api/v1/tokens/{id}")
	}
	if err := s.store.DeleteSession(r.Context(), p.session); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.touches.forget(p.session)
	s.hub.CloseClients(sessionKey(p.session), "logged out")
	s.clearSessionCookie(w, r)
	s.audit(r, p.Name, "logout", "", nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	writeJSON(w, http.StatusOK, meResponse{Username: p.Name, Role: p.Role, Auth: string(p.Kind)})
	return nil
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
