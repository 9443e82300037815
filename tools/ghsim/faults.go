package ghsim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are injected on demand (SetFaults) and apply from the next request
// or delivery. Probabilities are in [0,1] and drawn from the seeded source.
type Faults struct {
	// Webhook faults. A dropped delivery is logged but never sent; a
	// duplicated one is sent twice with the same X-GitHub-Delivery; a delayed
	// one is sent WebhookDelayBy (simulated) later, overtaking nothing but
	// overtaken by later ones; a reordered one swaps places with the next
	// queued delivery.
	WebhookDrop      float64
	WebhookDuplicate float64
	WebhookDelay     float64
	WebhookDelayBy   time.Duration // default 5s
	WebhookReorder   float64

	// REST faults, applied before authentication as GitHub's edge would.
	REST5xx       float64 // 502 Bad Gateway or 503
	REST429       float64 // primary rate limit: 429, Remaining 0, Retry-After
	RESTSecondary float64 // secondary rate limit: 403 with Retry-After
	RetryAfter    time.Duration
	Latency       time.Duration // added to every REST response (real time / Speed)
	LatencyJitter time.Duration // plus up to this much, drawn
	// Match limits REST faults to some requests; nil matches every request.
	Match func(method, path string) bool
}

// SetFaults replaces the fault settings.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// chance draws against p; callers hold s.mu.
func (s *Sim) chance(p float64) bool { return p > 0 && s.rng.Float64() < p }

// injectFault applies REST faults; true means a fault answered the request.
func (s *Sim) injectFault(c *call, reqID string) bool {
	s.mu.Lock()
	f := s.faults
	if f.Match != nil && !f.Match(c.r.Method, c.r.URL.Path) {
		s.mu.Unlock()
		return false
	}
	delay := f.Latency
	if f.LatencyJitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(f.LatencyJitter)))
	}
	fail5xx, fail429, failSecondary := s.chance(f.REST5xx), s.chance(f.REST429), s.chance(f.RESTSecondary)
	s.mu.Unlock()
	if delay > 0 {
		_ = s.clock.Sleep(c.r.Context(), delay)
	}
	retry := f.RetryAfter
	if retry <= 0 {
		retry = 60 * time.Second
	}
	retrySecs := strconv.Itoa(int((retry + time.Second - 1) / time.Second))
	switch {
	case fail5xx:
		// GitHub's edge answers 502/503 with an HTML-ish or empty body;
		// clients must not depend on it.
		c.fail(http.StatusBadGateway, "Server Error", "")
		return true
	case fail429:
		c.rec.header.Set("Retry-After", retrySecs)
		c.rec.header.Set("X-RateLimit-Limit", "5000")
		c.rec.header.Set("X-RateLimit-Remaining", "0")
		c.rec.header.Set("X-RateLimit-Used", "5000")
		c.rec.header.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(retry).Unix(), 10))
		c.rec.header.Set("X-RateLimit-Resource", "core")
		c.fail(http.StatusTooManyRequests, "API rate limit exceeded. If you reach out to GitHub Support for help, please include the request ID "+reqID+".",
			"/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit")
		return true
	case failSecondary:
		c.secondaryRefusal(int((retry + time.Second - 1) / time.Second))
		return true
	}
	return false
}

// Request is one REST request the project made, as recorded.
type Request struct {
	Time           time.Time // simulated
	Method         string
	Path           string // without the query, e.g. /api/v3/app
	Query          url.Values
	Status         int
	InstallationID int64 // the installation token's, if one was used
	AppJWT         bool  // authenticated as the App
	RequestBody    []byte
	ResponseBody   []byte
	Header         http.Header // response headers
}

func (s *Sim) record(c *call, body []byte) {
	req := Request{
		Time: s.clock.Now(), Method: c.r.Method, Path: c.r.URL.Path, Query: c.r.URL.Query(),
		Status: c.rec.status, AppJWT: c.app != nil, RequestBody: body,
		ResponseBody: slices.Clone(c.rec.body.Bytes()), Header: c.rec.header.Clone(),
	}
	if c.ins != nil {
		req.InstallationID = c.ins.ID
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	s.log.Debug().Str("method", req.Method).Str("path", req.Path).Int("status", req.Status).
		Int64("installation", req.InstallationID).Msg("rest request")
}

// Requests returns the recorded REST requests for which filter is true (all
// when nil), oldest first.
func (s *Sim) Requests(filter func(Request) bool) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if filter == nil || filter(r) {
			out = append(out, r)
		}
	}
	return out
}

// CountRequests counts recorded requests of method whose path ends with
// suffix (e.g. "/dispatches"), whatever their status.
func (s *Sim) CountRequests(method, suffix string) int {
	return len(s.Requests(func(r Request) bool { return r.Method == method && strings.HasSuffix(r.Path, suffix) }))
}

// CountDispatches counts successful workflow dispatches.
func (s *Sim) CountDispatches() int {
	return len(s.Requests(func(r Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/dispatches") && r.Status < 300
	}))
}

// ResetRequests forgets the recorded requests.
func (s *Sim) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (r Request) String() string { return fmt.Sprintf("%s %s -> %d", r.Method, r.Path, r.Status) }
