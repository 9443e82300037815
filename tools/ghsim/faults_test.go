package ghsim

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// pingN sends n pings and waits until the sender is idle.
func pingN(t *testing.T, s *Sim, n int) {
	t.Helper()
	for range n {
		s.SendPing()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookFaults(t *testing.T) {
	t.Run("dropped delivery never arrives but is logged", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		rc := newReceiver(t, w.sim, "s3cret")
		w.sim.SetFaults(Faults{WebhookDrop: 1})
		pingN(t, w.sim, 3)
		if err := w.sim.WaitIdle(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(rc.events()); n != 0 {
			t.Fatalf("%d dropped deliveries arrived", n)
		}
		ds := w.sim.Deliveries()
		if len(ds) != 3 || !ds[0].Dropped || ds[0].Delivered {
			t.Fatalf("log = %+v", ds)
		}
	})
	t.Run("duplicated delivery arrives twice with the same id", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		rc := newReceiver(t, w.sim, "s3cret")
		w.sim.SetFaults(Faults{WebhookDuplicate: 1})
		pingN(t, w.sim, 1)
		got := rc.events()
		if len(got) != 2 || got[0].GUID != got[1].GUID || got[0].GUID == "" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("reordered delivery arrives after the next one", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		rc := newReceiver(t, w.sim, "s3cret")
		w.sim.SetFaults(Faults{WebhookReorder: 1})
		w.sim.SendPing()
		w.sim.SetFaults(Faults{})
		w.sim.SendPing()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.sim.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		ds := w.sim.Deliveries()
		got := rc.events()
		if len(got) != 2 || got[0].GUID != ds[1].GUID || got[1].GUID != ds[0].GUID {
			t.Fatalf("arrival %v, emitted %s then %s", got, ds[0].GUID, ds[1].GUID)
		}
	})
	t.Run("delayed delivery arrives after later ones", func(t *testing.T) {
		w := newTestWorld(t, Options{Speed: 100})
		rc := newReceiver(t, w.sim, "s3cret")
		w.sim.SetFaults(Faults{WebhookDelay: 1, WebhookDelayBy: 5 * time.Second})
		w.sim.SendPing()
		w.sim.SetFaults(Faults{})
		w.sim.SendPing()
		eventually(t, 3*time.Second, "both pings", func() bool { return len(rc.events()) == 2 })
		ds := w.sim.Deliveries()
		if got := rc.events(); got[0].GUID != ds[1].GUID || !ds[0].Delayed {
			t.Fatalf("delayed ping arrived first")
		}
	})
}

func TestRESTFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, status int, header map[string][]string, body []byte)
	}{
		{"429 carries Retry-After and an exhausted rate limit", Faults{REST429: 1, RetryAfter: 30 * time.Second},
			func(t *testing.T, status int, h map[string][]string, body []byte) {
				if status != 429 || h["Retry-After"][0] != "30" || h["X-Ratelimit-Remaining"][0] != "0" {
					t.Fatalf("%d %v", status, h)
				}
			}},
		{"secondary rate limit is 403 with Retry-After and the documented message", Faults{RESTSecondary: 1, RetryAfter: 2 * time.Second},
			func(t *testing.T, status int, h map[string][]string, body []byte) {
				if status != 403 || h["Retry-After"][0] != "2" || !strings.Contains(string(body), "secondary rate limit") {
					t.Fatalf("%d %v %s", status, h, body)
				}
			}},
		{"5xx", Faults{REST5xx: 1}, func(t *testing.T, status int, _ map[string][]string, _ []byte) {
			if status < 500 {
				t.Fatalf("status %d", status)
			}
		}},
		{"faults limited by Match spare other paths", Faults{REST5xx: 1, Match: func(_, p string) bool { return strings.HasSuffix(p, "/dispatches") }},
			func(t *testing.T, status int, _ map[string][]string, _ []byte) {
				if status != 200 {
					t.Fatalf("status %d", status)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t, Options{})
			jwt := w.appJWT(t)
			w.sim.SetFaults(tc.faults)
			resp, body := doReq(t, "GET", w.sim.APIURL()+"app", jwt, nil)
			tc.check(t, resp.StatusCode, resp.Header, body)
			reqs := w.sim.Requests(nil)
			if len(reqs) != 1 || reqs[0].Status != resp.StatusCode {
				t.Fatalf("request log = %v", reqs)
			}
		})
	}
	t.Run("go-github sees the secondary limit as AbuseRateLimitError", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		client, err := github.NewClient(github.WithAuthToken(w.appJWT(t)), github.WithEnterpriseURLs(w.sim.APIURL(), w.sim.APIURL()))
		if err != nil {
			t.Fatal(err)
		}
		w.sim.SetFaults(Faults{RESTSecondary: 1, RetryAfter: 7 * time.Second})
		_, _, err = client.Apps.Get(context.Background(), "")
		var abuse *github.AbuseRateLimitError
		if !errors.As(err, &abuse) || abuse.GetRetryAfter() != 7*time.Second {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("latency slows responses in simulated time", func(t *testing.T) {
		w := newTestWorld(t, Options{Speed: 10})
		jwt := w.appJWT(t)
		w.sim.SetFaults(Faults{Latency: time.Second})
		start := time.Now()
		doReq(t, "GET", w.sim.APIURL()+"app", jwt, nil)
		if d := time.Since(start); d < 90*time.Millisecond {
			t.Fatalf("took %v, want >= 100ms (1s at 10x)", d)
		}
	})
}

func TestSeedDeterminism(t *testing.T) {
	draw := func(seed uint64) []string {
		s, err := New(Options{Seed: seed, PrivateKey: sharedKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.AddRepo(Repo{Owner: "o", Name: "r", Workflows: []*Workflow{{File: "w.yml", RunsOn: []string{"x"},
			Conclusion: func(r *rand.Rand) string { return []string{"success", "failure"}[r.IntN(2)] }}}}); err != nil {
			t.Fatal(err)
		}
		ins, _ := s.AddInstallation(Installation{Account: "o"})
		s.SetFaults(Faults{WebhookDrop: 0.5})
		s.mu.Lock()
		repo := s.repos["o/r"]
		for range 20 {
			s.startRun(repo, repo.Workflows[0], s.installations[ins], "main", "a[bot]", nil, []string{"x"})
		}
		s.mu.Unlock()
		var out []string
		for _, j := range s.Jobs() {
			out = append(out, j.Duration.String()+"/"+j.Outcome)
		}
		for _, d := range s.Deliveries() {
			out = append(out, d.GUID+strconv.FormatBool(d.Dropped))
		}
		return out
	}
	a, b, c := draw(42), draw(42), draw(43)
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different draws")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same draws")
	}
}
