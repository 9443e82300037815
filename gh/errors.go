package gh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"
)

// ErrRunCompleted is returned by CancelRun when GitHub refuses to cancel a
// run because it has already completed (409). Callers treat it as "the run
// ended on its own" and read its conclusion.
var ErrRunCompleted = errors.New("run already completed")

// ErrNotInstalled is wrapped by InstallationForOwner and InstallationForRepo
// when GitHub answers 404: the App is not installed on that account or
// repository (uninstalled, or the repository is outside the selection). It
// is a state that an installation webhook ends, not a refusal of the request,
// so the dispatcher keeps the job waiting instead of failing it (see
// docs/ARCHITECTURE.md, "Dispatch protocol").
var ErrNotInstalled = errors.New("the App is not installed")

// ErrInvalidRequest is wrapped by errors for requests that were refused
// before anything was sent (missing owner, bad scope, ...).
var ErrInvalidRequest = errors.New("invalid request")

// APIError is a GitHub API failure, classified. It wraps the underlying
// go-github (or transport) error.
type APIError struct {
	// Status is the HTTP status; 0 when no response arrived (network error,
	// timeout).
	Status int
	// Message is GitHub's message, with its validation details when given.
	Message string
	// RetryAfter is how long GitHub asked us to wait (Retry-After, or until
	// X-RateLimit-Reset for an exhausted primary limit); 0 when unknown.
	RetryAfter time.Duration
	// Endpoint is the endpoint template, e.g. "GET /repos/{owner}/{repo}".
	Endpoint string
	// RateLimited is true for primary and secondary rate-limit refusals
	// (403 or 429), which are transient even though 403 usually is not.
	RateLimited bool
	// MaybeApplied is true when a non-idempotent request may have taken
	// effect although it failed (5xx, or the connection broke after it was
	// sent): a dispatch answered 502 may still have created a run, so the
	// caller must look for it before dispatching again.
	MaybeApplied bool
	Err          error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// IsTransient reports whether err is worth retrying later: 5xx, 408, 429,
// primary and secondary rate limits, network errors and timeouts.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Status == 0 {
			return !errors.Is(ae.Err, context.Canceled) && !errors.Is(ae.Err, ErrInvalidRequest)
		}
		return ae.RateLimited || ae.Status >= 500 || ae.Status == http.StatusTooManyRequests ||
			ae.Status == http.StatusRequestTimeout
	}
	return isNetworkError(err)
}

// IsPermanent reports whether retrying err cannot help: 400, 401, 403 that
// is not a rate limit, 404, 409, 410, 422 and any other 4xx, and requests we
// refused to send.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidRequest) {
		return true
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status >= 400 && ae.Status < 500 && !ae.RateLimited &&
		ae.Status != http.StatusTooManyRequests && ae.Status != http.StatusRequestTimeout
}

// RetryAfter is how long GitHub asked us to wait before trying again, 0 when
// it did not say.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// MaybeApplied reports whether a failed non-idempotent request may
// nevertheless have taken effect on GitHub (see APIError.MaybeApplied).
func MaybeApplied(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.MaybeApplied
}

// isNetworkError is true for failures below HTTP: refused or reset
// connections, DNS failures, timeouts, truncated responses.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// classify turns what go-github returned into an *APIError. endpoint is the
// template of the call; idempotent says whether the method is safe to repeat
// (it decides MaybeApplied). now computes RetryAfter from reset times.
func classify(err error, endpoint string, idempotent bool, now time.Time) error {
	if err == nil {
		return nil
	}
	var existing *APIError
	if errors.As(err, &existing) {
		return err
	}
	ae := &APIError{Endpoint: endpoint, Err: err}
	var (
		rle  *github.RateLimitError
		are  *github.AbuseRateLimitError
		ere  *github.ErrorResponse
		tokE *ghinstallation.HTTPError
	)
	switch {
	case errors.As(err, &rle):
		ae.Status = statusOf(rle.Response, http.StatusForbidden)
		ae.Message = rle.Message
		ae.RateLimited = true
		ae.RetryAfter = untilReset(rle.Rate.Reset.Time, now)
		if ra, ok := parseRetryAfter(headerOf(rle.Response, "Retry-After"), now); ok {
			ae.RetryAfter = ra
		}
	case errors.As(err, &are):
		ae.Status = statusOf(are.Response, http.StatusForbidden)
		ae.Message = are.Message
		ae.RateLimited = true
		ae.RetryAfter = defaultSecondaryWait
		if are.RetryAfter != nil && *are.RetryAfter > 0 {
			ae.RetryAfter = *are.RetryAfter
		}
	case errors.As(err, &tokE):
		// The installation token could not be created, so the request itself
		// was never sent: nothing can have been applied.
		ae.Status = statusOf(tokE.Response, 0)
		ae.Message = "create installation token: " + tokE.Message
		if tokE.Response != nil {
			_ = tokE.Response.Body.Close()
			if ra, ok := parseRetryAfter(tokE.Response.Header.Get("Retry-After"), now); ok {
				ae.RetryAfter = ra
			}
			ae.RateLimited = (ae.Status == http.StatusForbidden || ae.Status == http.StatusTooManyRequests) &&
				tokE.Response.Header.Get("X-RateLimit-Remaining") == "0"
		}
		return ae
	case errors.As(err, &ere):
		ae.Status = statusOf(ere.Response, 0)
		ae.Message = errorMessage(ere)
		if ae.Status == http.StatusTooManyRequests {
			ae.RateLimited = true
			ae.RetryAfter = defaultSecondaryWait
		}
		if ra, ok := parseRetryAfter(headerOf(ere.Response, "Retry-After"), now); ok {
			ae.RetryAfter = ra
		}
	}
	if !idempotent && !errors.Is(err, context.Canceled) &&
		(ae.Status >= 500 || (ae.Status == 0 && isNetworkError(err))) {
		ae.MaybeApplied = true
	}
	return ae
}

// errorMessage joins GitHub's message with its validation details, which
// is where the useful part often is ("Required input 'x' not provided").
func errorMessage(e *github.ErrorResponse) string {
	parts := []string{strings.TrimSpace(e.Message)}
	for _, d := range e.Errors {
		switch {
		case d.Message != "":
			parts = append(parts, d.Message)
		case d.Code != "":
			parts = append(parts, fmt.Sprintf("%s %s on %s", d.Code, d.Field, d.Resource))
		}
	}
	return strings.Join(parts, "; ")
}

func statusOf(r *http.Response, def int) int {
	if r == nil {
		return def
	}
	return r.StatusCode
}

func headerOf(r *http.Response, name string) string {
	if r == nil {
		return ""
	}
	return r.Header.Get(name)
}

func untilReset(reset, now time.Time) time.Duration {
	if reset.IsZero() {
		return defaultSecondaryWait
	}
	// GitHub's reset is in whole seconds; a second more avoids waking just
	// before the window turns over.
	return max(reset.Sub(now)+time.Second, time.Second)
}

// invalid builds an error for a request refused before sending.
func invalid(endpoint, format string, args ...any) error {
	return &APIError{Endpoint: endpoint, Message: fmt.Sprintf(format, args...), Err: ErrInvalidRequest}
}

// wrapf says what was attempted while keeping err's classification
// reachable with errors.As.
func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// checkNames refuses owner, repository and user names that GitHub would
// never issue, so they cannot reshape the request path ("../", "?", "/").
func checkNames(ep string, names ...string) error {
	for _, n := range names {
		if !validName(n) {
			return invalid(ep, "%q is not a valid GitHub account or repository name", n)
		}
	}
	return nil
}

func validName(n string) bool {
	if n == "" || n == "." || n == ".." || len(n) > 100 {
		return false
	}
	for _, r := range n {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
