package gh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/rs/zerolog"
)

// GitHub's documented advice when a secondary limit gives no Retry-After:
// "wait for at least one minute before retrying".
const defaultSecondaryWait = time.Minute

// RetryPolicy bounds the retries of idempotent requests. The zero value
// takes the defaults below.
type RetryPolicy struct {
	// MaxAttempts counts the first try; default 4. 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first back-off after a 5xx or network error,
	// doubled each time; default 500ms.
	BaseDelay time.Duration
	// MaxDelay caps one back-off; default 10s.
	MaxDelay time.Duration
	// MaxTotalWait caps the sum of waits for one request; default 30s. A
	// wait GitHub demands (Retry-After, X-RateLimit-Reset) that does not fit
	// is not taken: the response goes back to the caller at once, classified
	// with its RetryAfter, so a job is put back with back-off instead of
	// holding the dispatcher for minutes.
	MaxTotalWait time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	if p.MaxTotalWait <= 0 {
		p.MaxTotalWait = 30 * time.Second
	}
	return p
}

// backoff is the wait before attempt n+1 after n failed attempts (n >= 1).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// retrier is the client middleware that retries. It sits outside the
// installation-token transport, so a retry gets a fresh token if needed and
// a failed token creation (the request never left) can be retried safely
// whatever the method.
type retrier struct {
	next   http.RoundTripper
	policy RetryPolicy
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	log    zerolog.Logger
}

func (rt *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	idempotent := req.Method == http.MethodGet || req.Method == http.MethodHead
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		resp, err := rt.next.RoundTrip(req)
		wait, retry := rt.decide(req, resp, err, idempotent, attempt)
		if !retry || attempt >= rt.policy.MaxAttempts || waited+wait > rt.policy.MaxTotalWait {
			return resp, err
		}
		next, ok := rewind(req)
		if !ok {
			return resp, err
		}
		if resp != nil {
			drain(resp)
		}
		var tokE *ghinstallation.HTTPError
		if errors.As(err, &tokE) && tokE.Response != nil {
			drain(tokE.Response) // ghinstallation leaves it open
		}
		rt.log.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("attempt", attempt).
			Dur("wait", wait).Int("status", statusOf(resp, 0)).AnErr("error", err).Msg("retrying GitHub request")
		if err := rt.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("wait %s before retrying %s %s: %w", wait, req.Method, req.URL.Path, err)
		}
		waited += wait
		req = next
	}
}

// decide says whether the outcome of attempt is worth retrying, and after
// how long.
func (rt *retrier) decide(req *http.Request, resp *http.Response, err error, idempotent bool, attempt int) (time.Duration, bool) {
	if err != nil {
		if req.Context().Err() != nil {
			return 0, false
		}
		var tokE *ghinstallation.HTTPError
		if errors.As(err, &tokE) {
			// The token request failed, so ours was never sent.
			if tokE.Response == nil || tokE.Response.StatusCode >= 500 {
				return rt.policy.backoff(attempt), true
			}
			if w, limited := rt.rateLimitWait(tokE.Response); limited {
				return w, true
			}
			return 0, false
		}
		return rt.policy.backoff(attempt), idempotent && isNetworkError(err)
	}
	if w, limited := rt.rateLimitWait(resp); limited {
		// A rate-limited request was refused before anything was done, but a
		// POST still goes back to its caller: the dispatcher owns the timing
		// of dispatches and comment writes are paced by their caller.
		return w, idempotent
	}
	if resp.StatusCode >= 500 && idempotent {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), rt.now()); ok {
			return ra, true
		}
		return rt.policy.backoff(attempt), true
	}
	return 0, false
}

// rateLimitWait recognises GitHub's rate-limit refusals and returns how long
// GitHub asks us to wait. GitHub's rules: Retry-After first; otherwise, with
// X-RateLimit-Remaining 0, until X-RateLimit-Reset; otherwise a minute.
func (rt *retrier) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests) {
		return 0, false
	}
	now := rt.now()
	primary := resp.Header.Get("X-RateLimit-Remaining") == "0"
	if !primary && resp.StatusCode == http.StatusForbidden && !isSecondaryLimit(resp) {
		return 0, false // a real permission refusal
	}
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return ra, true
	}
	if primary {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return untilReset(time.Unix(reset, 0), now), true
		}
	}
	return defaultSecondaryWait, true
}

// isSecondaryLimit peeks at a 403's body for GitHub's secondary-limit
// message or documentation link, then puts the body back for go-github.
func isSecondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	_ = json.Unmarshal(body, &e)
	msg := strings.ToLower(e.Message)
	return strings.Contains(msg, "secondary rate limit") || strings.Contains(msg, "abuse detection") ||
		strings.HasSuffix(e.DocumentationURL, "secondary-rate-limits") || strings.HasSuffix(e.DocumentationURL, "#abuse-rate-limits")
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > 24*3600 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// rewind prepares req to be sent again; a body that cannot be replayed
// makes the request unretryable.
func rewind(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	next := req.Clone(req.Context())
	next.Body = body
	return next, true
}

// drain lets the connection be reused before the retry.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
