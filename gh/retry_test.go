package gh_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// TestRetryPolicyAgainstSimulatorFaults drives the retry middleware with
// ghsim's fault injection: the real ClientCreator, the real wire.
func TestRetryPolicyAgainstSimulatorFaults(t *testing.T) {
	listRunners := func(w *world) error {
		_, err := w.client.ListRunners(ctxT(t), w.inst, "org:acme")
		return err
	}
	dispatch := func(w *world) error {
		_, err := w.client.Dispatch(ctxT(t), dispatchReq(w))
		return err
	}
	tests := []struct {
		name   string
		faults ghsim.Faults
		retry  gh.RetryPolicy
		call   func(*world) error
		// expectations
		wantErr      bool
		wantWaits    []time.Duration
		wantRequests int // to the path below
		method, path string
		check        func(t *testing.T, err error)
	}{
		{
			name:   "5xx on a GET is retried after back-off",
			faults: ghsim.Faults{REST5xx: 1, Match: once(http.MethodGet, "/actions/runners")},
			call:   listRunners, wantWaits: []time.Duration{500 * time.Millisecond},
			wantRequests: 2, method: http.MethodGet, path: "/actions/runners",
		},
		{
			name:   "429 waits the Retry-After GitHub sent",
			faults: ghsim.Faults{REST429: 1, RetryAfter: 7 * time.Second, Match: once(http.MethodGet, "/actions/runners")},
			call:   listRunners, wantWaits: []time.Duration{7 * time.Second},
			wantRequests: 2, method: http.MethodGet, path: "/actions/runners",
		},
		{
			name:   "secondary rate limit 403 waits its Retry-After",
			faults: ghsim.Faults{RESTSecondary: 1, RetryAfter: 3 * time.Second, Match: once(http.MethodGet, "/actions/runners")},
			call:   listRunners, wantWaits: []time.Duration{3 * time.Second},
			wantRequests: 2, method: http.MethodGet, path: "/actions/runners",
		},
		{
			name:   "attempts are capped and the last error is transient",
			faults: ghsim.Faults{REST5xx: 1, Match: every(http.MethodGet, "/actions/runners")},
			retry:  gh.RetryPolicy{MaxAttempts: 3},
			call:   listRunners, wantErr: true,
			wantWaits:    []time.Duration{500 * time.Millisecond, time.Second},
			wantRequests: 3, method: http.MethodGet, path: "/actions/runners",
			check: func(t *testing.T, err error) {
				var ae *gh.APIError
				if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || !gh.IsTransient(err) || gh.IsPermanent(err) {
					t.Errorf("want a transient 502, got %v", err)
				}
				if ae != nil && ae.Endpoint != "GET /orgs/{org}/actions/runners" {
					t.Errorf("endpoint = %q, want the template", ae.Endpoint)
				}
			},
		},
		{
			name:   "a demanded wait beyond the budget is not taken",
			faults: ghsim.Faults{REST429: 1, RetryAfter: 2 * time.Minute, Match: every(http.MethodGet, "/actions/runners")},
			call:   listRunners, wantErr: true, wantWaits: nil,
			wantRequests: 1, method: http.MethodGet, path: "/actions/runners",
			check: func(t *testing.T, err error) {
				if !gh.IsTransient(err) || gh.RetryAfter(err) != 2*time.Minute {
					t.Errorf("want transient with RetryAfter 2m, got %v (retry after %s)", err, gh.RetryAfter(err))
				}
			},
		},
		{
			name:   "5xx on a dispatch is not retried and may have created a run",
			faults: ghsim.Faults{REST5xx: 1, Match: once(http.MethodPost, "/dispatches")},
			call:   dispatch, wantErr: true, wantWaits: nil,
			wantRequests: 1, method: http.MethodPost, path: "/dispatches",
			check: func(t *testing.T, err error) {
				if !gh.IsTransient(err) || !gh.MaybeApplied(err) {
					t.Errorf("want transient and MaybeApplied, got %v", err)
				}
			},
		},
		{
			name:   "rate-limited dispatch goes back classified, not retried",
			faults: ghsim.Faults{REST429: 1, RetryAfter: 20 * time.Second, Match: once(http.MethodPost, "/dispatches")},
			call:   dispatch, wantErr: true, wantWaits: nil,
			wantRequests: 1, method: http.MethodPost, path: "/dispatches",
			check: func(t *testing.T, err error) {
				if !gh.IsTransient(err) || gh.MaybeApplied(err) || gh.RetryAfter(err) != 20*time.Second {
					t.Errorf("want transient, not applied, RetryAfter 20s; got %v (%s)", err, gh.RetryAfter(err))
				}
			},
		},
		{
			name:   "failed token creation is retried even for a dispatch (nothing was sent)",
			faults: ghsim.Faults{REST5xx: 1, Match: once(http.MethodPost, "/access_tokens")},
			call:   dispatch, wantWaits: []time.Duration{500 * time.Millisecond},
			wantRequests: 1, method: http.MethodPost, path: "/dispatches",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{retry: tc.retry})
			w.sim.SetFaults(tc.faults)
			err := tc.call(w)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got := w.sleeps.all(); !slices.Equal(got, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tc.wantWaits)
			}
			if got := len(w.requests(tc.method, tc.path)); got != tc.wantRequests {
				t.Errorf("%d requests to %s, want %d", got, tc.path, tc.wantRequests)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	w := newWorld(t, worldOpts{
		retry: gh.RetryPolicy{MaxTotalWait: time.Hour},
		sleep: func(ctx context.Context, d time.Duration) error {
			<-ctx.Done() // a real wait of d would outlast the test
			return ctx.Err()
		},
	})
	w.sim.SetFaults(ghsim.Faults{REST429: 1, RetryAfter: 10 * time.Minute, Match: every(http.MethodGet, "/actions/runners")})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := w.client.ListRunners(ctx, w.inst, "org:acme")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancellation took %s", time.Since(start))
	}
	if gh.IsTransient(err) || gh.IsPermanent(err) {
		t.Errorf("a cancelled call is neither transient nor permanent: %v", err)
	}
}
