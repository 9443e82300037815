package server

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
)

// sessionTouchInterval is how often a session's last_seen_at is written at
// most: often enough to tell an active session from an abandoned one,
// rarely enough that a UI polling every second does not turn each read
// into a database write.
const sessionTouchInterval = time.Minute

// sessionTouches remembers when this process last wrote each session's
// last_seen_at. The stored value alone would let a burst of concurrent
// requests (a page load) all see it as stale and all write; this makes one
// of them win. Another replica may still write once more in the same
// minute, which is harmless.
type sessionTouches struct {
	mu   sync.Mutex
	last map[store.SecretHash]time.Time
}

func newSessionTouches() *sessionTouches {
	return &sessionTouches{last: map[store.SecretHash]time.Time{}}
}

// due reports whether the session, last seen at seen (as stored), should be
// touched now, and if so claims the touch.
func (t *sessionTouches) due(h store.SecretHash, seen, now time.Time) bool {
	if now.Sub(seen) < sessionTouchInterval {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.last[h]; ok && now.Sub(l) < sessionTouchInterval {
		return false
	}
	t.last[h] = now
	return true
}

func (t *sessionTouches) forget(h store.SecretHash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.last, h)
}

// prune drops claims old enough not to matter, so sessions that ended
// without a logout do not accumulate.
func (t *sessionTouches) prune(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for h, l := range t.last {
		if now.Sub(l) >= sessionTouchInterval {
			delete(t.last, h)
		}
	}
}

// touchSession records that p's session was used, at most once per
// sessionTouchInterval. A failure only costs the timestamp's freshness, so
// it is logged, never shown to the caller.
func (s *Server) touchSession(r *http.Request, p *principal) {
	if p.Kind != kindSession || !s.touches.due(p.session, p.seen, s.now()) {
		return
	}
	if err := s.store.TouchSession(r.Context(), p.session); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn().Err(err).Str("user", p.Name).Msg("record session use")
	}
}
