package gh_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/rs/zerolog"
)

// fakeGitHub answers like GitHub documents it, for the behaviours the
// simulator does not model (403 primary limits without Retry-After,
// permission refusals, organisation routes refusing user accounts,
// variants of the return_run_details refusal). Installation tokens are
// handed out; everything else goes to handle.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	handle http.HandlerFunc

	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func newFakeGitHub(t *testing.T, handle http.HandlerFunc) *fakeGitHub {
	f := &fakeGitHub{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.body = append(f.body, b)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if strings.HasSuffix(r.URL.Path, "/access_tokens") {
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"token": "ghs_fake", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
			return
		}
		f.handle(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// calls counts requests whose "METHOD path" ends with suffix.
func (f *fakeGitHub) calls(method, suffix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Method == method && strings.HasSuffix(r.URL.Path, suffix) {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) bodies(suffix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for i, r := range f.reqs {
		if strings.HasSuffix(r.URL.Path, suffix) {
			out = append(out, string(f.body[i]))
		}
	}
	return out
}

func testKeyPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func (f *fakeGitHub) client(t *testing.T, opts gh.Options) *gh.Client {
	t.Helper()
	opts.APIURL = f.srv.URL + "/api/v3/"
	opts.AppID = 1
	opts.PrivateKey = testKeyPEM(t)
	opts.Logger = zerolog.New(zerolog.NewTestWriter(t))
	c, err := gh.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ghError(w http.ResponseWriter, status int, msg, doc string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

func TestPrimaryRateLimitWaitsUntilReset(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	var served sync.Mutex
	first := true
	f := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		served.Lock()
		defer served.Unlock()
		if first {
			first = false
			// GitHub's primary limit as a 403: no Retry-After, only the reset.
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(42*time.Second).Unix(), 10))
			ghError(w, http.StatusForbidden, "API rate limit exceeded for installation ID 7.",
				"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit")
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4999")
		_ = json.NewEncoder(w).Encode(map[string]any{"total_count": 0, "runners": []any{}})
	})
	rec := &sleeps{}
	c := f.client(t, gh.Options{Now: func() time.Time { return now }, Sleep: rec.sleep, Retry: gh.RetryPolicy{MaxTotalWait: time.Minute}})
	if _, err := c.ListRunners(ctxT(t), 7, "org:acme"); err != nil {
		t.Fatalf("list runners: %v", err)
	}
	if got := rec.all(); len(got) != 1 || got[0] != 43*time.Second {
		t.Errorf("waits = %v, want [43s] (until reset, plus a second)", got)
	}
	if n := f.calls(http.MethodGet, "/orgs/acme/actions/runners"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestForbiddenWithoutRateLimitIsPermanent(t *testing.T) {
	f := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4000")
		ghError(w, http.StatusForbidden, "Resource not accessible by integration",
			"https://docs.github.com/rest/actions/self-hosted-runners#list-self-hosted-runners-for-an-organization")
	})
	rec := &sleeps{}
	c := f.client(t, gh.Options{Sleep: rec.sleep})
	_, err := c.ListRunners(ctxT(t), 7, "org:acme")
	if !gh.IsPermanent(err) || gh.IsTransient(err) {
		t.Errorf("want permanent, got %v", err)
	}
	if !strings.Contains(err.Error(), "Resource not accessible by integration") {
		t.Errorf("error %q lost GitHub's reason", err)
	}
	if n := f.calls(http.MethodGet, "/actions/runners"); n != 1 || len(rec.all()) != 0 {
		t.Errorf("a permission refusal was retried: %d requests, waits %v", n, rec.all())
	}
}

func TestInstallationForOwnerFallsBackToUserRoute(t *testing.T) {
	f := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/orgs/solo/installation":
			ghError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app")
		case "/api/v3/users/solo/installation":
			_ = json.NewEncoder(w).Encode(map[string]any{"id": 99, "account": map[string]any{"login": "solo", "type": "User"}, "repository_selection": "all"})
		default:
			ghError(w, http.StatusNotFound, "Not Found", "")
		}
	})
	c := f.client(t, gh.Options{})
	in, err := c.InstallationForOwner(ctxT(t), "solo")
	if err != nil || in.ID != 99 || in.AccountType != "User" {
		t.Fatalf("got %+v (err %v), want installation 99 of user solo", in, err)
	}
	if f.calls(http.MethodGet, "/orgs/solo/installation") != 1 || f.calls(http.MethodGet, "/users/solo/installation") != 1 {
		t.Error("want one org lookup and one user lookup")
	}
	for _, r := range f.reqs {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("%s %s not authenticated with the App JWT", r.Method, r.URL.Path)
		}
	}
}

func TestNetworkErrorsRetryGETsOnly(t *testing.T) {
	f := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"total_count": 0, "runners": []any{}})
	})
	var mu sync.Mutex
	broken := map[string]int{} // method -> failures left
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		fail := !strings.HasSuffix(r.URL.Path, "/access_tokens") && broken[r.Method] > 0
		if fail {
			broken[r.Method]--
		}
		mu.Unlock()
		if fail {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	rec := &sleeps{}
	c := f.client(t, gh.Options{Transport: transport, Sleep: rec.sleep})

	broken[http.MethodGet] = 1
	if _, err := c.ListRunners(ctxT(t), 7, "org:acme"); err != nil {
		t.Fatalf("a GET after one reset connection: %v", err)
	}
	broken[http.MethodPost] = 1
	_, err := c.Dispatch(ctxT(t), gh.DispatchRequest{InstallationID: 7, Owner: "acme", Repo: "app", WorkflowID: "sync.yml", Ref: "main"})
	if !gh.IsTransient(err) || !gh.MaybeApplied(err) {
		t.Errorf("a dispatch whose connection broke: want transient and MaybeApplied, got %v", err)
	}
	if n := f.calls(http.MethodPost, "/dispatches"); n != 0 {
		t.Errorf("the broken dispatch was retried %d times", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestReturnRunDetailsRefusalIsRecognised(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		message  string
		fallback bool
	}{
		{"GHES 3.19 permitted-key refusal", 422, "Invalid request.\n\n\"return_run_details\" is not a permitted key.", true},
		{"400 naming the field", 400, "Unknown field: return_run_details", true},
		{"schema refusal naming no field", 422, "Invalid request.\n\nadditional properties are not allowed", true},
		{"undeclared workflow input", 422, "Unexpected inputs provided: [\"nope\"]", false},
		{"missing ref", 422, "No ref found for: nope", false},
		{"bad inputs type", 422, "Invalid request.\n\nFor 'properties/inputs', \"x\" is not an object.", false},
		{"server error", 500, "Server Error: return_run_details", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if strings.Contains(string(b), "return_run_details") || !tc.fallback {
					ghError(w, tc.status, tc.message, "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event")
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			c := f.client(t, gh.Options{})
			req := gh.DispatchRequest{InstallationID: 7, Owner: "acme", Repo: "app", WorkflowID: "sync.yml", Ref: "main"}
			res, err := c.Dispatch(ctxT(t), req)
			if tc.fallback {
				if err != nil || res.HasRunDetails {
					t.Fatalf("want a fallback dispatch without run details, got %+v, %v", res, err)
				}
				if n := f.calls(http.MethodPost, "/dispatches"); n != 2 {
					t.Errorf("want 2 dispatch requests, got %d", n)
				}
				if gh.SupportsRunDetails(c) {
					t.Error("the refusal was not remembered")
				}
				return
			}
			if err == nil {
				t.Fatal("want the refusal returned")
			}
			if n := f.calls(http.MethodPost, "/dispatches"); n != 1 {
				t.Errorf("want 1 dispatch request, got %d: %v", n, f.bodies("/dispatches"))
			}
			if !gh.SupportsRunDetails(c) {
				t.Error("an unrelated error switched off return_run_details")
			}
		})
	}
}
