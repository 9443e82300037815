package ghsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSecondaryLimitsAsDocumented(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const post, get = http.MethodPost, http.MethodGet
	const dispatch = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"
	const path = "/repos/acme/infra/actions/workflows/sync.yml/dispatches"
	admitN := func(s *secondary, inst int64, n int, method, endpoint, path string) int {
		for i := range n {
			release, _, ok := s.admit(inst, method, endpoint, path)
			if !ok {
				return i
			}
			release()
		}
		return n
	}

	t.Run("80 content-generating requests a minute, then 403 with Retry-After 60", func(t *testing.T) {
		s := newSecondary(DefaultSecondaryLimits(), clock)
		if got := admitN(s, 1, 80, post, dispatch, path); got != 80 {
			t.Fatalf("admitted %d of 80", got)
		}
		if _, ra, ok := s.admit(1, post, dispatch, path); ok || ra != 60 {
			t.Fatalf("81st: ok=%v retry-after=%d, want refused with 60", ok, ra)
		}
		if _, _, ok := s.admit(2, post, dispatch, path); !ok {
			t.Fatal("another installation was refused: the limits are per installation")
		}
	})
	t.Run("requests while blocked double the block", func(t *testing.T) {
		s := newSecondary(DefaultSecondaryLimits(), clock)
		admitN(s, 1, 81, post, dispatch, path)
		_, ra, _ := s.admit(1, get, "GET /x", "/repos/acme/infra")
		_, ra2, _ := s.admit(1, get, "GET /x", "/repos/acme/infra")
		if ra != 120 || ra2 != 240 {
			t.Fatalf("blocks %d then %d s, want 120 then 240", ra, ra2)
		}
	})
	t.Run("500 content-generating requests an hour", func(t *testing.T) {
		s := newSecondary(DefaultSecondaryLimits(), clock)
		start := now
		t.Cleanup(func() { now = start })
		admitted := 0
		for range 7 {
			admitted += admitN(s, 1, 80, post, dispatch, path)
			now = now.Add(61 * time.Second)
		}
		if admitted != 500 {
			t.Fatalf("admitted %d in an hour, want 500", admitted)
		}
		now = start.Add(61*time.Minute + 10*time.Second)
		if got := admitN(s, 1, 80, post, dispatch, path); got != 80 {
			t.Fatalf("an hour later admitted %d, want 80 again", got)
		}
	})
	t.Run("900 points a minute per endpoint: GET costs 1, writes 5", func(t *testing.T) {
		s := newSecondary(SecondaryLimits{EndpointPointsPerMinute: 900}, clock)
		if got := admitN(s, 1, 900, get, "GET /runners", "/orgs/acme/actions/runners"); got != 900 {
			t.Fatalf("admitted %d GETs, want 900", got)
		}
		if got := admitN(s, 1, 180, post, dispatch, path); got != 180 {
			t.Fatalf("another endpoint admitted %d POSTs, want 180 (5 points each)", got)
		}
		if _, _, ok := s.admit(1, get, "GET /runners", "/orgs/acme/actions/runners"); ok {
			t.Fatal("901st point on one endpoint was admitted")
		}
	})
	t.Run("100 concurrent requests", func(t *testing.T) {
		s := newSecondary(SecondaryLimits{Concurrent: 100}, clock)
		for i := range 100 {
			if _, _, ok := s.admit(1, get, "GET /x", "/x"); !ok {
				t.Fatalf("request %d refused", i)
			}
		}
		if _, _, ok := s.admit(1, get, "GET /x", "/x"); ok {
			t.Fatal("101st concurrent request admitted")
		}
	})
	t.Run("what counts as content-generating", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			want         bool
		}{
			{post, "/repos/acme/infra/issues/1/comments", true},
			{http.MethodPatch, "/repos/acme/infra/issues/comments/5", true},
			{post, "/repos/acme/infra/issues/comments/5/reactions", true},
			{post, path, true},
			{post, "/repos/acme/infra/actions/runs/7/cancel", true},
			{get, "/repos/acme/infra/actions/runs", false},
			{post, "/app/installations/1/access_tokens", false},
			{post, "/app/hook/deliveries/1/attempts", false},
		} {
			if got := ContentGenerating(c.method, c.path); got != c.want {
				t.Errorf("%s %s: content-generating %v, want %v", c.method, c.path, got, c.want)
			}
		}
	})
	t.Run("the zero value enforces nothing", func(t *testing.T) {
		s := newSecondary(SecondaryLimits{}, clock)
		if got := admitN(s, 1, 2000, post, dispatch, path); got != 2000 {
			t.Fatalf("admitted %d", got)
		}
	})
}

// Over HTTP the refusal looks like GitHub's: 403, Retry-After, the
// secondary-limit message and documentation link, primary headers intact.
func TestSecondaryLimitRefusalOverHTTP(t *testing.T) {
	limits := SecondaryLimits{ContentPerMinute: 3, Block: time.Minute}
	w := newTestWorld(t, Options{SecondaryLimits: limits})
	if err := w.sim.AddIssue("acme/infra", 1, "Nightly", false); err != nil {
		t.Fatal(err)
	}
	tok := w.token(t, w.ins)
	url := w.sim.APIURL() + "repos/acme/infra/issues/1/comments"
	for i := range 3 {
		if r, b := doReq(t, "POST", url, tok, map[string]string{"body": fmt.Sprint("c", i)}); r.StatusCode != http.StatusCreated {
			t.Fatalf("comment %d: %d %s", i, r.StatusCode, b)
		}
	}
	r, b := doReq(t, "POST", url, tok, map[string]string{"body": "one too many"})
	if r.StatusCode != http.StatusForbidden || r.Header.Get("Retry-After") != "60" || r.Header.Get("X-RateLimit-Remaining") == "0" {
		t.Fatalf("got %d Retry-After %q Remaining %q: %s", r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("X-RateLimit-Remaining"), b)
	}
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	if err := json.Unmarshal(b, &e); err != nil || !strings.Contains(e.Message, "secondary rate limit") ||
		!strings.HasSuffix(e.DocumentationURL, "#about-secondary-rate-limits") {
		t.Fatalf("body %s", b)
	}
	if w.sim.SecondaryRefusals() != 1 {
		t.Fatalf("refusals %d, want 1", w.sim.SecondaryRefusals())
	}
	// Minting a token is not limited.
	_ = w.token(t, w.ins)
}
