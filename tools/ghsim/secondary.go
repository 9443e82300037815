package ghsim

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SecondaryLimits are GitHub's documented secondary rate limits
// (docs.github.com, "Rate limits for the REST API", "About secondary rate
// limits"), enforced per App installation. A zero field disables that
// limit; the zero value disables them all, which is the simulator's
// default so that worlds running faster than real time are not throttled
// by limits counted in wall-clock minutes. DefaultSecondaryLimits is what
// GitHub documents.
type SecondaryLimits struct {
	// Concurrent requests in flight ("No more than 100 concurrent requests
	// are allowed").
	Concurrent int
	// EndpointPointsPerMinute per REST endpoint ("No more than 900 points
	// per minute are allowed for REST API endpoints"); GET, HEAD and
	// OPTIONS cost 1 point, POST, PATCH, PUT and DELETE 5.
	EndpointPointsPerMinute int
	// ContentPerMinute and ContentPerHour bound content-generating requests
	// ("no more than 80 content-generating requests per minute and no more
	// than 500 content-generating requests per hour").
	ContentPerMinute, ContentPerHour int
	// Block is how long the first refusal blocks the installation (GitHub
	// asks "wait at least one minute"); each request sent while blocked
	// doubles the block, up to an hour ("continuing to make requests while
	// you are rate limited may result in the banning of your integration").
	Block time.Duration
}

// DefaultSecondaryLimits returns GitHub's documented secondary limits.
func DefaultSecondaryLimits() SecondaryLimits {
	return SecondaryLimits{Concurrent: 100, EndpointPointsPerMinute: 900, ContentPerMinute: 80, ContentPerHour: 500, Block: time.Minute}
}

func (l SecondaryLimits) enabled() bool {
	return l.Concurrent > 0 || l.EndpointPointsPerMinute > 0 || l.ContentPerMinute > 0 || l.ContentPerHour > 0
}

// ContentGenerating reports whether GitHub counts a request as
// content-generating: a write (POST, PATCH, PUT, DELETE) to a repository's
// resources — issue comments and their reactions, workflow dispatches, run
// cancels, check runs. GitHub does not publish the exact list; these are
// the writes that create or change something people see. Token minting,
// manifest conversions, OAuth and webhook redelivery are not.
func ContentGenerating(method, path string) bool {
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return false
	}
	return strings.HasPrefix(path, "/repos/")
}

// Points is what a request costs against an endpoint's per-minute budget.
func Points(method string) int {
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return 1
	}
	return 5
}

// secondary is the per-installation state of the secondary limits.
type secondary struct {
	mu     sync.Mutex
	limits SecondaryLimits
	now    func() time.Time
	insts  map[int64]*instLimits
	// refusals counts every secondary-limit refusal, for tests and benches.
	refusals int
}

type instLimits struct {
	inFlight     int
	points       map[string][]stamp // endpoint → recent requests
	content      []time.Time        // content-generating requests of the last hour
	blockedUntil time.Time
	block        time.Duration
}

type stamp struct {
	at     time.Time
	points int
}

func newSecondary(l SecondaryLimits, now func() time.Time) *secondary {
	if l.Block <= 0 {
		l.Block = time.Minute
	}
	return &secondary{limits: l, now: now, insts: map[int64]*instLimits{}}
}

// admit decides one request of an installation to endpoint (the route
// pattern). It returns a release func to call when the request is done,
// or the seconds to put in Retry-After when GitHub would refuse it.
func (s *secondary) admit(inst int64, method, endpoint, path string) (release func(), retryAfter int, ok bool) {
	if !s.limits.enabled() {
		return func() {}, 0, true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.insts[inst]
	if st == nil {
		st = &instLimits{points: map[string][]stamp{}}
		s.insts[inst] = st
	}
	refuse := func() (func(), int, bool) {
		s.refusals++
		if now.Before(st.blockedUntil) {
			st.block = min(2*st.block, time.Hour)
		} else {
			st.block = s.limits.Block
		}
		st.blockedUntil = now.Add(st.block)
		return nil, int((st.block + time.Second - 1) / time.Second), false
	}
	if now.Before(st.blockedUntil) {
		return refuse()
	}
	if s.limits.Concurrent > 0 && st.inFlight >= s.limits.Concurrent {
		return refuse()
	}
	cost := Points(method)
	if s.limits.EndpointPointsPerMinute > 0 {
		recent := trimStamps(st.points[endpoint], now.Add(-time.Minute))
		used := 0
		for _, r := range recent {
			used += r.points
		}
		st.points[endpoint] = recent
		if used+cost > s.limits.EndpointPointsPerMinute {
			return refuse()
		}
	}
	content := ContentGenerating(method, path)
	if content && (s.limits.ContentPerMinute > 0 || s.limits.ContentPerHour > 0) {
		st.content = trimTimes(st.content, now.Add(-time.Hour))
		lastMinute := len(st.content) - countBefore(st.content, now.Add(-time.Minute))
		if (s.limits.ContentPerMinute > 0 && lastMinute+1 > s.limits.ContentPerMinute) ||
			(s.limits.ContentPerHour > 0 && len(st.content)+1 > s.limits.ContentPerHour) {
			return refuse()
		}
	}
	if s.limits.EndpointPointsPerMinute > 0 {
		st.points[endpoint] = append(st.points[endpoint], stamp{at: now, points: cost})
	}
	if content {
		st.content = append(st.content, now)
	}
	st.inFlight++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			st.inFlight--
			s.mu.Unlock()
		})
	}, 0, true
}

func trimStamps(xs []stamp, since time.Time) []stamp {
	i := 0
	for i < len(xs) && !xs[i].at.After(since) {
		i++
	}
	return xs[i:]
}

func trimTimes(xs []time.Time, since time.Time) []time.Time {
	return xs[countBefore(xs, since):]
}

// countBefore counts the times at or before t (xs is in order).
func countBefore(xs []time.Time, t time.Time) int {
	i := 0
	for i < len(xs) && !xs[i].After(t) {
		i++
	}
	return i
}

// secondaryRefusal answers like GitHub when a secondary limit is hit: 403,
// a Retry-After, the secondary-limit message and documentation link, and the
// primary limit headers unchanged (the primary budget is not the reason).
func (c *call) secondaryRefusal(retryAfter int) {
	c.rec.header.Set("Retry-After", strconv.Itoa(retryAfter))
	c.fail(http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "+
		"If you reach out to GitHub Support for help, please include the request ID "+c.rec.header.Get("X-GitHub-Request-Id")+".",
		"/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
}

// SecondaryRefusals counts the requests refused by a secondary limit.
func (s *Sim) SecondaryRefusals() int {
	s.secondary.mu.Lock()
	defer s.secondary.mu.Unlock()
	return s.secondary.refusals
}
