package dispatcher

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// The benchmark target: an idle installation costs at most 15 GitHub
// requests an hour. A steady world (runners listed, nothing queued, every
// webhook delivered) is reconciled every 5 minutes with the product's
// defaults for an hour after its start-up reconcile, on a clock the test
// moves; the simulator's request log is counted by endpoint.
func TestIdleHourCostsAtMost15Requests(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), envOptions{runners: 3})
	clock := newTestClock()
	// The client's installation cache runs on the same clock. (Its token
	// follows the wall clock, as go-githubapp's does: one an hour in real
	// life, counted below.)
	client, err := gh.New(gh.Options{APIURL: e.sim.APIURL(), AppID: e.sim.AppID(), PrivateKey: e.sim.PrivateKeyPEM(),
		Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	d := e.dispatcher(func(o *Options) {
		o.GitHub = client
		o.Now = clock.Now
		o.RedeliverWindow = 0 // the defaults: 1h window, 30m interval, 5m reconcile
	})

	e.reconcileNow(d) // start-up: looks up the installation, takes a token, scans
	start := len(e.sim.Requests(nil))
	for range 12 {
		clock.Advance(5 * time.Minute)
		e.reconcileNow(d)
	}
	hour := e.sim.Requests(nil)[start:]

	byEndpoint := map[string]int{}
	for _, r := range hour {
		byEndpoint[r.Method+" "+shape(r)]++
	}
	listings := byEndpoint["GET /orgs/acme/actions/runners"]
	scans := byEndpoint["GET /app/hook/deliveries"]
	lookups := byEndpoint["GET /orgs/acme/installation"]
	tokens := byEndpoint["POST /app/installations/{id}/access_tokens"]
	report := fmt.Sprintf("requests in the idle hour: %v", sorted(byEndpoint))
	if listings != 12 {
		t.Errorf("%d runner listings, want 12 (one per reconcile); %s", listings, report)
	}
	if scans != 2 {
		t.Errorf("%d delivery scans, want 2 (every redeliver_interval, one page each); %s", scans, report)
	}
	if lookups != 0 {
		t.Errorf("%d installation lookups, want 0 (every listing confirms the cached one); %s", lookups, report)
	}
	if tokens > 1 {
		t.Errorf("%d tokens, want at most 1; %s", tokens, report)
	}
	if other := len(hour) - listings - scans - lookups - tokens; other != 0 {
		t.Errorf("%d other requests; %s", other, report)
	}
	// Installation tokens last an hour and go-githubapp renews one a
	// minute before it expires: a real idle hour takes exactly one.
	if total := listings + scans + lookups + 1; total > 15 {
		t.Errorf("an idle hour costs %d requests (with its token), want at most 15; %s", total, report)
	}
}

// shape names a request by its path with numeric ids replaced.
func shape(r ghsim.Request) string {
	parts := strings.Split(strings.TrimPrefix(r.Path, "/api/v3"), "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

func sorted(m map[string]int) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return out
}
