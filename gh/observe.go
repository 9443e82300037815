package gh

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Observation describes one HTTP exchange with GitHub.
type Observation struct {
	// Endpoint is the endpoint template ("GET /repos/{owner}/{repo}/actions/runs"),
	// never the concrete path, so metric labels stay bounded. Requests to
	// paths we do not know are reported as "<METHOD> other".
	Endpoint string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// InstallationID is the installation whose token authenticated the
	// request, 0 for requests made as the App (JWT).
	InstallationID int64
	// RateLimitRemaining is X-RateLimit-Remaining, -1 when absent.
	RateLimitRemaining int
	// RateLimitReset is X-RateLimit-Reset, zero when absent.
	RateLimitReset time.Time
	// Duration is how long the exchange took until the headers arrived.
	Duration time.Duration
	Err      error
}

// Observer is called once per HTTP response (and once per failed exchange)
// from the goroutine that made the request. It must be cheap and safe for
// concurrent use.
type Observer func(Observation)

type ctxKey int

const installationCtxKey ctxKey = 1

// withInstallation tags requests made for inst, so observations can name
// it (go-githubapp keeps its own tag private).
func withInstallation(ctx context.Context, inst int64) context.Context {
	return context.WithValue(ctx, installationCtxKey, inst)
}

// observer wraps the base transport: it sees every request on the wire,
// including the installation-token requests go-githubapp makes on its own,
// and each retry.
type observer struct {
	next     http.RoundTripper
	observe  Observer
	basePath string // the API URL's path, e.g. "/api/v3"
	now      func() time.Time
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	start := o.now()
	resp, err := o.next.RoundTrip(req)
	ob := Observation{
		Endpoint:           req.Method + " " + endpointTemplate(strings.TrimPrefix(req.URL.Path, o.basePath)),
		RateLimitRemaining: -1,
		Duration:           o.now().Sub(start),
		Err:                err,
	}
	// A request signed with the App's JWT spends the App's quota, not an
	// installation's, even when made on behalf of one (token creation).
	if inst, ok := req.Context().Value(installationCtxKey).(int64); ok && !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
		ob.InstallationID = inst
	}
	if resp != nil {
		ob.Status = resp.StatusCode
		if v, convErr := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); convErr == nil {
			ob.RateLimitRemaining = v
		}
		if v, convErr := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); convErr == nil {
			ob.RateLimitReset = time.Unix(v, 0)
		}
	}
	o.observe(ob)
	return resp, err
}

// endpoints are the templates of every route this package calls (and the
// token route go-githubapp calls), as GitHub's REST description names them.
var endpoints = []string{
	"/app",
	"/app/installations",
	"/app/installations/{installation_id}",
	"/app/installations/{installation_id}/access_tokens",
	"/app/hook/deliveries",
	"/app/hook/deliveries/{delivery_id}",
	"/app/hook/deliveries/{delivery_id}/attempts",
	"/orgs/{org}/installation",
	"/users/{username}/installation",
	"/repos/{owner}/{repo}/installation",
	"/orgs/{org}/actions/runners",
	"/repos/{owner}/{repo}/actions/runners",
	"/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
	"/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
	"/repos/{owner}/{repo}/actions/runs",
	"/repos/{owner}/{repo}/actions/runs/{run_id}",
	"/repos/{owner}/{repo}/actions/runs/{run_id}/cancel",
	"/repos/{owner}/{repo}/issues/{issue_number}/comments",
	"/repos/{owner}/{repo}/issues/comments/{comment_id}",
	"/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
	"/repos/{owner}/{repo}/collaborators/{username}/permission",
	"/repos/{owner}/{repo}/pulls/{pull_number}",
}

// endpointTemplate maps a concrete API path (without the base path) to its
// template, or "other". A literal segment beats a parameter, so
// /app/installations is never taken for /app/{x}.
func endpointTemplate(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestLiterals := "other", -1
	for _, tpl := range endpoints {
		tsegs := strings.Split(strings.Trim(tpl, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if ts != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = tpl, literals
		}
	}
	return best
}

// endpoint builds the template a method reports in its errors.
func endpoint(method, tpl string) string { return method + " " + tpl }
