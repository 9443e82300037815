package gh

import (
	"maps"
	"sync"
	"time"
)

// Observers fans one observation out to several observers (metrics, the
// rate-limit tracker), skipping nil ones.
func Observers(obs ...Observer) Observer {
	return func(ob Observation) {
		for _, o := range obs {
			if o != nil {
				o(ob)
			}
		}
	}
}

// RateLimit is the last primary rate-limit figure GitHub reported for one
// installation (0 is the App itself).
type RateLimit struct {
	Remaining int
	Reset     time.Time
	// Seen is when the figure was reported.
	Seen time.Time
}

// RateLimits keeps the latest rate-limit figures per installation, for
// /status and the rate-limit gauge. Use its Observe as (part of) the
// Client's Observer. The zero value is not usable; call NewRateLimits.
type RateLimits struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[int64]RateLimit
}

// NewRateLimits builds a tracker; now may be nil for time.Now.
func NewRateLimits(now func() time.Time) *RateLimits {
	if now == nil {
		now = time.Now
	}
	return &RateLimits{now: now, m: map[int64]RateLimit{}}
}

// Observe records ob's figures when the response carried them.
func (r *RateLimits) Observe(ob Observation) {
	if ob.RateLimitRemaining < 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[ob.InstallationID] = RateLimit{Remaining: ob.RateLimitRemaining, Reset: ob.RateLimitReset, Seen: r.now()}
}

// Snapshot copies the figures, keyed by installation id.
func (r *RateLimits) Snapshot() map[int64]RateLimit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.m)
}
