package ghsim

import (
	"bytes"
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// testWorld is a small world most tests share: org acme with repo
// acme/infra (workflows sync.yml and label.yml), the App installed on acme,
// and a user alice with write access.
type testWorld struct {
	sim  *Sim
	ins  int64
	repo *Repo
	sync *Workflow
}

func newTestWorld(t *testing.T, opts Options) testWorld {
	t.Helper()
	if opts.PrivateKey == nil {
		opts.PrivateKey = sharedKey(t)
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = "s3cret"
	}
	s := newTestServer(t, opts)
	repo, err := s.AddRepo(Repo{Owner: "acme", Name: "infra", Branches: []string{"dev"}, Tags: []string{"v1.0.0"},
		Workflows: []*Workflow{
			{File: "sync.yml", Name: "Sync", RunsOn: []string{"self-hosted", "sync"},
				Inputs:   []WorkflowInput{{Name: "network", Required: true}, {Name: "client", Default: "geth"}},
				Duration: func(*rand.Rand) time.Duration { return 2 * time.Second }},
			{File: "label.yml", Name: "Label", RunsOn: []string{"self-hosted"}, RunsOnInput: "runner",
				Inputs: []WorkflowInput{{Name: "runner"}}, RunNameInput: "runner"},
		}})
	if err != nil {
		t.Fatalf("add repo: %v", err)
	}
	ins, err := s.AddInstallation(Installation{Account: "acme"})
	if err != nil {
		t.Fatalf("add installation: %v", err)
	}
	s.AddUser(User{Login: "alice", Orgs: []string{"acme"}, Perms: map[string]Permission{"acme/infra": PermWrite}})
	return testWorld{sim: s, ins: ins, repo: repo, sync: repo.Workflows[0]}
}

// sharedKey is one App key for all tests: RSA key generation under the race
// detector costs about a second per key.
var sharedKeyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(crand.Reader, 2048) })

func sharedKey(t *testing.T) *rsa.PrivateKey { return sharedKeyF(t) }

func sharedKeyF(tb testing.TB) *rsa.PrivateKey {
	key, err := sharedKeyOnce()
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	return key
}

func signJWT(t *testing.T, key *rsa.PrivateKey, iss string, iat, exp time.Time) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: iss, IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)})
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign jwt: %v", err)
	}
	return s
}

func (w testWorld) appJWT(t *testing.T) string {
	now := time.Now()
	return signJWT(t, w.sim.opts.PrivateKey, strconv.FormatInt(w.sim.AppID(), 10), now.Add(-30*time.Second), now.Add(2*time.Minute))
}

// token mints an installation token through the REST API.
func (w testWorld) token(t *testing.T, ins int64) string {
	t.Helper()
	resp, body := doReq(t, "POST", w.sim.APIURL()+"app/installations/"+strconv.FormatInt(ins, 10)+"/access_tokens", w.appJWT(t), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("access token: %d %s", resp.StatusCode, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode token: %v", err)
	}
	return out.Token
}

// doReq makes one HTTP request with an Authorization bearer (when auth is
// set) and a JSON body (when body is not nil).
func doReq(t *testing.T, method, url, auth string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newTestServer serves a simulator over httptest for the length of a test.
// It repeats ghsimtest.New because this package's own tests cannot import
// ghsimtest (which imports ghsim).
func newTestServer(t *testing.T, opts Options) *Sim {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("ghsim: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	s.SetBaseURL(srv.URL)
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return s
}
