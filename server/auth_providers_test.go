package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestAuthProviders(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *config.Config)
		want   providersResponse
	}{
		{"default config offers only password login", nil, providersResponse{Basic: true}},
		{"GitHub enabled with a client id is offered", func(c *config.Config) {
			c.Auth.GitHub.Enabled, c.GitHub.App.ClientID = true, "client-id"
		}, providersResponse{Basic: true, GitHub: true}},
		{"GitHub enabled without a client id is not offered", func(c *config.Config) {
			c.Auth.GitHub.Enabled = true
		}, providersResponse{Basic: true}},
		{"GitHub with a client id but disabled is not offered", func(c *config.Config) {
			c.GitHub.App.ClientID = "client-id"
		}, providersResponse{Basic: true}},
		{"GitHub without public_url cannot start so is not offered", func(c *config.Config) {
			c.Auth.GitHub.Enabled, c.GitHub.App.ClientID, c.Server.PublicURL = true, "client-id", ""
		}, providersResponse{Basic: true}},
		{"password login disabled is reported", func(c *config.Config) {
			c.Auth.Basic.Enabled = false
			c.Auth.GitHub.Enabled, c.GitHub.App.ClientID = true, "client-id"
		}, providersResponse{GitHub: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: tc.mutate})
			rec := h.do(anonymous, "GET", "/api/v1/auth/providers", nil)
			var got providersResponse
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			// Unlike GET /auth/github, asking must not start a login.
			if c := rec.Result().Cookies(); len(c) != 0 {
				t.Fatalf("providers set cookies: %v", c)
			}
		})
	}
}

// The providers route is under the public rate limit (asked on every
// login page view), not the stricter auth one that guards password guesses.
func TestAuthProvidersUsesThePublicRateLimit(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{mutate: func(c *config.Config) {
		c.Server.RateLimit.Public.RequestsPerMinute = 2
		c.Server.RateLimit.Auth.RequestsPerMinute = 100
	}, options: func(o *Options) {
		// A fixed clock: the limit is a per-minute window, and a minute
		// boundary between requests would reset it.
		at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
		o.Now = func() time.Time { return at }
	}})
	codes := []int{}
	for range 3 {
		codes = append(codes, h.do(anonymous, "GET", "/api/v1/auth/providers", nil).Code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("3 requests at a public limit of 2/min answered %v, want [200 200 429]", codes)
	}
}
