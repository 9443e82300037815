package setup

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/secretbox"
)

// stateCookie carries the browser's half of the state.
const stateCookie = "dispatchoor_setup"

// stateTTL bounds a setup attempt. GitHub allows an hour for the whole
// manifest flow; the person needs only a minute or two on GitHub's page.
const stateTTL = 30 * time.Minute

// stateAD binds sealed states to their purpose.
var stateAD = []byte("dispatchoor/setup/state")

// State errors; each becomes a 400 with its own code.
var (
	errStateInvalid  = errors.New("setup state is not one this server issued")
	errStateExpired  = errors.New("setup state has expired; start again from /setup")
	errStateMismatch = errors.New("setup state was issued to another browser; start again from /setup in this browser")
	errStateUsed     = errors.New("setup state was already used; start again from /setup")
)

// statePayload is sealed into the state parameter. The state is sealed
// rather than kept in memory so that any replica (on PostgreSQL several may
// serve setup mode behind one load balancer) can check it; the nonce in it
// must equal the browser's cookie, which an attacker's link cannot set.
type statePayload struct {
	Nonce   string `json:"n"`
	Expires int64  `json:"e"` // unix seconds
}

// states issues and checks setup states. It remembers used nonces until
// they expire so each state works once (per replica; across replicas the
// single-use App code and the "already configured" refusal finish the job).
type states struct {
	box *secretbox.Box
	now func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // nonce → expiry
}

func newStates(box *secretbox.Box, now func() time.Time) *states {
	return &states{box: box, now: now, used: map[string]time.Time{}}
}

// issue returns a new state for the URL and the matching cookie, scoped to
// the callback at cookiePath.
func (s *states) issue(cookiePath string, secure bool) (string, *http.Cookie, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	nonce := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	s.mu.Lock()
	s.prune(now)
	s.mu.Unlock()
	exp := now.Add(stateTTL)
	plain, err := json.Marshal(statePayload{Nonce: nonce, Expires: exp.Unix()})
	if err != nil {
		return "", nil, err
	}
	sealed, err := s.box.Seal(plain, stateAD)
	if err != nil {
		return "", nil, err
	}
	c := &http.Cookie{
		Name: stateCookie, Value: nonce, Path: cookiePath,
		MaxAge: int(stateTTL / time.Second), Expires: exp,
		// Lax: the cookie must come back on GitHub's top-level GET redirect
		// to the callback, and on nothing else cross-site.
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure,
	}
	return base64.RawURLEncoding.EncodeToString(sealed), c, nil
}

// parseState opens a state parameter. It never trusts its input: anything
// that was not sealed by this key is errStateInvalid.
func parseState(box *secretbox.Box, state string) (statePayload, error) {
	if state == "" || len(state) > 512 {
		return statePayload{}, errStateInvalid
	}
	// Strict: one state has exactly one spelling.
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(state)
	if err != nil {
		return statePayload{}, errStateInvalid
	}
	plain, err := box.Open(sealed, stateAD)
	if err != nil {
		return statePayload{}, errStateInvalid
	}
	var p statePayload
	if err := json.Unmarshal(plain, &p); err != nil || p.Nonce == "" || p.Expires == 0 {
		return statePayload{}, errStateInvalid
	}
	return p, nil
}

// consume checks a state against the browser's cookie and marks it used.
// A state is spent by its first check, whether the conversion then
// succeeds or not: a replay never reaches GitHub.
func (s *states) consume(state string, cookie *http.Cookie) error {
	p, err := parseState(s.box, state)
	if err != nil {
		return err
	}
	now := s.now()
	exp := time.Unix(p.Expires, 0)
	if !now.Before(exp) {
		return errStateExpired
	}
	if cookie == nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(p.Nonce)) != 1 {
		return errStateMismatch
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	if _, ok := s.used[p.Nonce]; ok {
		return errStateUsed
	}
	s.used[p.Nonce] = exp
	return nil
}

// prune forgets used nonces whose states have expired anyway, so the set
// stays as small as the number of recent setup attempts. Callers hold mu.
func (s *states) prune(now time.Time) {
	for n, e := range s.used {
		if !now.Before(e) {
			delete(s.used, n)
		}
	}
}

// clearCookie removes the state cookie after a callback.
func clearCookie(cookiePath string, secure bool) *http.Cookie {
	return &http.Cookie{Name: stateCookie, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure}
}
