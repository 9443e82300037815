package gh

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Priority decides who goes first when an installation's budget is short.
type Priority int

// The priorities, lowest first: a dispatch puts an idle runner to work, a
// comment or reaction only informs, and a reconciliation listing can wait.
const (
	PriorityBackground Priority = iota
	PriorityFeedback
	PriorityDispatch
)

// String names a priority for logs and metric labels.
func (p Priority) String() string {
	switch p {
	case PriorityDispatch:
		return "dispatch"
	case PriorityFeedback:
		return "feedback"
	default:
		return "background"
	}
}

const priorityCtxKey ctxKey = 2

// withPriority marks the requests made under ctx.
func withPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityCtxKey, p)
}

func priorityOf(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityCtxKey).(Priority)
	return p
}

// PaceLimits are GitHub's secondary rate limits, which the pacer keeps every
// installation under before GitHub has to refuse anything ("Rate limits for
// the REST API", "About secondary rate limits"). A zero field disables that
// limit: GitHub Enterprise Server administrators set their own, or none.
type PaceLimits struct {
	// Concurrent requests in flight.
	Concurrent int
	// EndpointPointsPerMinute per endpoint; GET, HEAD and OPTIONS cost 1
	// point, other methods 5.
	EndpointPointsPerMinute int
	// ContentPerMinute and ContentPerHour bound content-generating
	// requests: writes to a repository's resources (dispatches, run
	// cancels, comments, reactions).
	ContentPerMinute, ContentPerHour int
}

// DefaultPaceLimits are GitHub's documented limits.
func DefaultPaceLimits() PaceLimits {
	return PaceLimits{Concurrent: 100, EndpointPointsPerMinute: 900, ContentPerMinute: 80, ContentPerHour: 500}
}

// windowMargin widens the pacer's windows beyond GitHub's: a request is
// counted when it leaves here but when it arrives there, so two requests a
// window apart here could land inside one window at GitHub.
const windowMargin = 2 * time.Second

// PaceEvent reports one request that went through the pacer.
type PaceEvent struct {
	Installation int64
	Priority     Priority
	// Waited is how long the request was held back.
	Waited time.Duration
	// Blocked is set on a response that was a secondary-limit refusal:
	// the installation is held until BlockedUntil.
	Blocked      bool
	BlockedUntil time.Time
}

// pacer holds each installation's requests within PaceLimits, dispatches
// first. It counts requests in sliding windows, exactly as the limits are
// written: a token bucket refilled at 80 a minute would let 160 through in
// the first minute (its burst, then its refill), which GitHub refuses.
//
// It wraps the transport, so it sees each attempt on the wire. Requests
// signed with the App's JWT (installation lookups, token minting) are not
// an installation's and pass unpaced.
type pacer struct {
	next    http.RoundTripper
	limits  PaceLimits
	now     func() time.Time
	observe func(PaceEvent)

	mu    sync.Mutex
	insts map[int64]*paceState
	seq   uint64
}

type paceState struct {
	inFlight     int
	content      []time.Time            // content-generating sends in the last hour (+margin)
	points       map[string][]pointSend // endpoint → sends in the last minute (+margin)
	waiters      []*waiter              // ordered: priority first, then arrival
	blockedUntil time.Time              // GitHub said wait
	wake         chan struct{}          // closed and replaced whenever capacity may have freed
}

type pointSend struct {
	at     time.Time
	points int
}

type waiter struct {
	prio Priority
	seq  uint64
}

func newPacer(next http.RoundTripper, limits PaceLimits, now func() time.Time, observe func(PaceEvent)) *pacer {
	if observe == nil {
		observe = func(PaceEvent) {}
	}
	return &pacer{next: next, limits: limits, now: now, observe: observe, insts: map[int64]*paceState{}}
}

func (p *pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	inst, ok := req.Context().Value(installationCtxKey).(int64)
	if !ok || inst <= 0 || strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
		return p.next.RoundTrip(req)
	}
	prio := priorityOf(req.Context())
	start := p.now()
	release, err := p.acquire(req.Context(), inst, prio, req.Method, req.URL.Path)
	if err != nil {
		return nil, err
	}
	ev := PaceEvent{Installation: inst, Priority: prio, Waited: p.now().Sub(start)}
	resp, err := p.next.RoundTrip(req)
	release()
	if until, limited := p.secondaryBlock(resp); limited {
		p.block(inst, until)
		ev.Blocked, ev.BlockedUntil = true, until
	}
	p.observe(ev)
	return resp, err
}

// secondaryBlock recognises GitHub's secondary-limit refusal and returns
// until when GitHub asked us to wait. The response body is left as it was.
func (p *pacer) secondaryBlock(resp *http.Response) (time.Time, bool) {
	if resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests) {
		return time.Time{}, false
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return time.Time{}, false // the primary budget: go-github waits for its reset
	}
	if resp.StatusCode == http.StatusForbidden && !isSecondaryLimit(resp) {
		return time.Time{}, false
	}
	now := p.now()
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return now.Add(d), true
	}
	return now.Add(defaultSecondaryWait), true
}

func (p *pacer) block(inst int64, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state(inst)
	if until.After(st.blockedUntil) {
		st.blockedUntil = until
	}
}

func (p *pacer) state(inst int64) *paceState {
	st := p.insts[inst]
	if st == nil {
		st = &paceState{points: map[string][]pointSend{}, wake: make(chan struct{})}
		p.insts[inst] = st
	}
	return st
}

// acquire waits until the request may be sent: its installation is not
// blocked, it is first among the waiters that want the same kind of
// budget, and the windows have room. It records the send and returns the
// func that ends it.
func (p *pacer) acquire(ctx context.Context, inst int64, prio Priority, method, path string) (func(), error) {
	endpoint := method + " " + endpointTemplate(path)
	content := contentGenerating(method, path)
	cost := pointsOf(method)

	p.mu.Lock()
	st := p.state(inst)
	p.seq++
	w := &waiter{prio: prio, seq: p.seq}
	if content {
		st.waiters = append(st.waiters, w)
		slices.SortStableFunc(st.waiters, func(a, b *waiter) int {
			if a.prio != b.prio {
				return int(b.prio) - int(a.prio)
			}
			return int(a.seq - b.seq)
		})
	}
	for {
		now := p.now()
		wait := p.admissible(st, now, w, content, endpoint, cost)
		if wait == 0 {
			p.record(st, now, w, content, endpoint, cost)
			p.mu.Unlock()
			return p.releaser(st), nil
		}
		wake := st.wake
		p.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.mu.Lock()
			st.waiters = slices.DeleteFunc(st.waiters, func(x *waiter) bool { return x == w })
			p.notify(st)
			p.mu.Unlock()
			return nil, ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		p.mu.Lock()
	}
}

// admissible returns 0 when the request may go now, else how long until it
// is worth looking again (a notify may come sooner).
func (p *pacer) admissible(st *paceState, now time.Time, w *waiter, content bool, endpoint string, cost int) time.Duration {
	const poll = time.Second // waiting behind another waiter: woken by notify, this is a safety net
	if now.Before(st.blockedUntil) {
		return st.blockedUntil.Sub(now)
	}
	if p.limits.Concurrent > 0 && st.inFlight >= p.limits.Concurrent {
		return poll
	}
	var wait time.Duration
	if content {
		if st.waiters[0] != w {
			return poll
		}
		st.content = dropBefore(st.content, now.Add(-time.Hour-windowMargin))
		if l := p.limits.ContentPerHour; l > 0 && len(st.content) >= l {
			wait = max(wait, st.content[len(st.content)-l].Add(time.Hour+windowMargin).Sub(now))
		}
		if l := p.limits.ContentPerMinute; l > 0 {
			inMinute := st.content[countAtOrBefore(st.content, now.Add(-time.Minute-windowMargin)):]
			if len(inMinute) >= l {
				wait = max(wait, inMinute[len(inMinute)-l].Add(time.Minute+windowMargin).Sub(now))
			}
		}
	}
	if l := p.limits.EndpointPointsPerMinute; l > 0 {
		sends := st.points[endpoint]
		i := 0
		for i < len(sends) && !sends[i].at.After(now.Add(-time.Minute-windowMargin)) {
			i++
		}
		sends = sends[i:]
		st.points[endpoint] = sends
		used := 0
		for _, s := range sends {
			used += s.points
		}
		// Free the oldest sends until this one fits.
		for j := 0; used+cost > l && j < len(sends); j++ {
			used -= sends[j].points
			wait = max(wait, sends[j].at.Add(time.Minute+windowMargin).Sub(now))
		}
	}
	if wait > 0 {
		return max(wait, time.Millisecond)
	}
	return 0
}

func (p *pacer) record(st *paceState, now time.Time, w *waiter, content bool, endpoint string, cost int) {
	if content {
		st.waiters = slices.DeleteFunc(st.waiters, func(x *waiter) bool { return x == w })
		st.content = append(st.content, now)
		p.notify(st) // the next waiter is now first
	}
	if p.limits.EndpointPointsPerMinute > 0 {
		st.points[endpoint] = append(st.points[endpoint], pointSend{at: now, points: cost})
	}
	st.inFlight++
}

func (p *pacer) releaser(st *paceState) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			st.inFlight--
			p.notify(st)
			p.mu.Unlock()
		})
	}
}

// notify wakes every waiter of st to look again. Callers hold p.mu.
func (p *pacer) notify(st *paceState) {
	close(st.wake)
	st.wake = make(chan struct{})
}

// PaceWaiting returns how many requests wait for each priority, for the
// pacer's gauges.
func (p *pacer) waiting() map[Priority]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[Priority]int{}
	for _, st := range p.insts {
		for _, w := range st.waiters {
			out[w.prio]++
		}
	}
	return out
}

// contentGenerating: writes to a repository's resources. GitHub does not
// publish the list of content-generating requests; these create or change
// something people see (dispatches, cancels, comments, reactions).
func contentGenerating(method, path string) bool {
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return false
	}
	return strings.Contains(path, "/repos/")
}

func pointsOf(method string) int {
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return 1
	}
	return 5
}

func dropBefore(xs []time.Time, t time.Time) []time.Time {
	return xs[countAtOrBefore(xs, t):]
}

func countAtOrBefore(xs []time.Time, t time.Time) int {
	i := 0
	for i < len(xs) && !xs[i].After(t) {
		i++
	}
	return i
}
