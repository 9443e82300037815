package setup

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/secretbox"
)

func testBox(t testing.TB) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New([]byte(strings.Repeat("k", secretbox.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStateLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	s := newStates(testBox(t), func() time.Time { return now })
	state, cookie, err := s.issue(callbackPath, true)
	if err != nil {
		t.Fatal(err)
	}
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != callbackPath {
		t.Fatalf("cookie %+v: want Secure (https public URL), HttpOnly, Lax, scoped to the callback", cookie)
	}
	if strings.Contains(state, cookie.Value) {
		t.Fatal("the state carries the cookie's nonce in clear: a leaked URL would be enough to pass the check")
	}
	other := &http.Cookie{Name: stateCookie, Value: "someone-else"}
	for _, tc := range []struct {
		name   string
		state  string
		cookie *http.Cookie
		at     time.Duration
		want   error
	}{
		{"no cookie", state, nil, 0, errStateMismatch},
		{"another browser's cookie", state, other, 0, errStateMismatch},
		{"truncated state", state[:len(state)-2], cookie, 0, errStateInvalid},
		{"expired exactly at its TTL", state, cookie, stateTTL, errStateExpired},
		{"valid, first use", state, cookie, stateTTL - time.Second, nil},
		{"valid, second use", state, cookie, stateTTL - time.Second, errStateUsed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.now = func() time.Time { return now.Add(tc.at) }
			if err := s.consume(tc.state, tc.cookie); err != tc.want {
				t.Fatalf("consume = %v, want %v", err, tc.want)
			}
		})
	}
	// Used nonces are forgotten once they could not pass the expiry check
	// anyway, so the set cannot grow without bound.
	s.now = func() time.Time { return now.Add(2 * stateTTL) }
	if _, _, err := s.issue(callbackPath, false); err != nil {
		t.Fatal(err)
	}
	if len(s.used) != 0 {
		t.Fatalf("%d used nonces kept after expiry", len(s.used))
	}
}

// FuzzParseState: the state parameter is attacker-controlled. Garbage is
// errStateInvalid, and a state that does parse (a seed sealed by this key)
// stops parsing when any one character changes.
func FuzzParseState(f *testing.F) {
	box := testBox(f)
	s := newStates(box, time.Now)
	good, _, err := s.issue(callbackPath, false)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", "abc", good[:10], strings.Repeat("A", 600), "%%%", good + "A"} {
		f.Add(seed)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	f.Fuzz(func(t *testing.T, state string) {
		p, err := parseState(box, state)
		if err != nil {
			if err != errStateInvalid {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		if p.Nonce == "" || p.Expires == 0 {
			t.Fatalf("%q parsed into an empty state", state)
		}
		for i := range len(state) {
			b := []byte(state)
			b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
			if _, err := parseState(box, string(b)); err == nil {
				t.Fatalf("state still parses with character %d changed", i)
			}
		}
	})
}
