package gh_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestAppSlugAndBotLogin(t *testing.T) {
	w := newWorld(t, worldOpts{sim: ghsim.Options{AppSlug: "dispatchoor-test"}})
	ctx := ctxT(t)
	for range 2 {
		login, err := w.client.BotLogin(ctx)
		if err != nil || login != "dispatchoor-test[bot]" {
			t.Fatalf("bot login = %q (err %v), want dispatchoor-test[bot]", login, err)
		}
	}
	if n := len(w.requests(http.MethodGet, "/api/v3/app")); n != 1 {
		t.Errorf("GET /app made %d times, want once (the slug never changes)", n)
	}
}

func TestFailedDeliveriesAndRedelivery(t *testing.T) {
	var healthy atomic.Bool
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)
	w := newWorld(t, worldOpts{sim: ghsim.Options{WebhookURL: receiver.URL, WebhookSecret: "s"}})
	ctx := ctxT(t)
	since := w.sim.Now().Add(-time.Second)
	// Enough webhooks to need more than one page of 100 deliveries.
	for range 60 {
		if _, err := w.client.Dispatch(ctx, dispatchReq(w)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, d := range w.sim.Deliveries() {
		if !d.DeliveredAt.IsZero() && !d.Delivered {
			want[d.GUID] = true
		}
	}
	if len(want) <= 100 {
		t.Fatalf("scenario produced only %d failed deliveries; paging would not be exercised", len(want))
	}

	failed, err := w.client.ListFailedDeliveries(ctx, since)
	if err != nil {
		t.Fatalf("list failed deliveries: %v", err)
	}
	if len(failed) != len(want) {
		t.Fatalf("got %d failed deliveries, want %d", len(failed), len(want))
	}
	for _, d := range failed {
		if !want[d.GUID] || d.Status == "OK" || d.Event == "" {
			t.Errorf("unexpected delivery %+v", d)
		}
	}
	if n := len(w.requests(http.MethodGet, "/app/hook/deliveries")); n < 2 {
		t.Errorf("listed %d pages, want the cursor followed", n)
	}

	healthy.Store(true)
	if err := w.client.Redeliver(ctx, failed[0].ID); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	if err := w.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := w.client.ListFailedDeliveries(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(want)-1 {
		t.Errorf("after one successful redelivery got %d failed, want %d", len(again), len(want)-1)
	}
	for _, d := range again {
		if d.GUID == failed[0].GUID {
			t.Errorf("redelivered GUID %s still listed as failed", d.GUID)
		}
	}
	if later, err := w.client.ListFailedDeliveries(ctx, w.sim.Now().Add(time.Hour)); err != nil || len(later) != 0 {
		t.Errorf("since the future: got %d (err %v), want none", len(later), err)
	}
	if err := w.client.Redeliver(ctx, 0); !gh.IsPermanent(err) {
		t.Errorf("redeliver 0: want a permanent error, got %v", err)
	}
}

func TestObserverSeesTemplatesInstallationsAndRateLimits(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := ctxT(t)
	w.sim.SetFaults(ghsim.Faults{REST5xx: 1, Match: once(http.MethodGet, "/actions/runners")})
	if _, err := w.client.ListRunners(ctx, w.inst, "org:acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.Dispatch(ctx, dispatchReq(w)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.InstallationForOwner(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ob := range w.obs.all() {
		count[ob.Endpoint]++
		if strings.Contains(ob.Endpoint, "acme") || strings.Contains(ob.Endpoint, "sync.yml") {
			t.Errorf("endpoint %q carries a concrete path", ob.Endpoint)
		}
		switch ob.Endpoint {
		case "GET /orgs/{org}/actions/runners", "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches":
			if ob.InstallationID != w.inst {
				t.Errorf("%s observed for installation %d, want %d", ob.Endpoint, ob.InstallationID, w.inst)
			}
		case "POST /app/installations/{installation_id}/access_tokens", "GET /orgs/{org}/installation":
			if ob.InstallationID != 0 {
				t.Errorf("%s is made with the App JWT but was observed for installation %d", ob.Endpoint, ob.InstallationID)
			}
		default:
			t.Errorf("unexpected endpoint %q", ob.Endpoint)
		}
		if ob.Status == http.StatusOK && (ob.RateLimitRemaining < 0 || ob.RateLimitReset.IsZero()) {
			t.Errorf("%s: rate-limit figures missing: %+v", ob.Endpoint, ob)
		}
	}
	if count["GET /orgs/{org}/actions/runners"] != 2 {
		t.Errorf("want both attempts of the retried GET observed, got %d", count["GET /orgs/{org}/actions/runners"])
	}
	if count["POST /app/installations/{installation_id}/access_tokens"] != 1 {
		t.Errorf("want one token creation observed, got %d", count["POST /app/installations/{installation_id}/access_tokens"])
	}
}

func TestRateLimitsTrackPerInstallation(t *testing.T) {
	tracker := gh.NewRateLimits(nil)
	var calls atomic.Int64
	w := newWorld(t, worldOpts{})
	// A second client on the same simulator, observing into the tracker.
	c, err := gh.New(gh.Options{
		APIURL: w.sim.APIURL(), AppID: w.sim.AppID(), PrivateKey: w.sim.PrivateKeyPEM(),
		Observer: gh.Observers(tracker.Observe, nil, func(gh.Observation) { calls.Add(1) }),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	for range 3 {
		if _, err := c.ListRunners(ctx, w.inst, "org:acme"); err != nil {
			t.Fatal(err)
		}
	}
	snap := tracker.Snapshot()
	got, ok := snap[w.inst]
	if !ok {
		t.Fatalf("no figures for installation %d: %+v", w.inst, snap)
	}
	// ghsim counts 5000 per hour per installation, as GitHub does.
	if got.Remaining != 4997 || got.Reset.IsZero() {
		t.Errorf("installation figures = %+v, want 4997 remaining after 3 calls", got)
	}
	if _, ok := snap[0]; !ok {
		t.Error("the App's own figures (token creation) were not tracked under 0")
	}
	if calls.Load() != 4 {
		t.Errorf("fan-out observer called %d times, want 4 (token + 3 lists)", calls.Load())
	}
}

// A scanner that remembers where it stopped passes a later since: GitHub
// lists newest first, so it reads only the page(s) newer than that, not
// the whole window again.
func TestLaterSinceReadsOnlyNewerDeliveries(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(receiver.Close)
	w := newWorld(t, worldOpts{sim: ghsim.Options{WebhookURL: receiver.URL, WebhookSecret: "s"}})
	ctx := ctxT(t)
	for range 60 { // more than a page of failed deliveries
		if _, err := w.client.Dispatch(ctx, dispatchReq(w)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := w.client.ListFailedDeliveries(ctx, w.sim.Now().Add(-time.Hour))
	if err != nil || len(all) <= 100 {
		t.Fatalf("got %d failed deliveries (err %v), want more than a page", len(all), err)
	}
	// delivered_at has whole seconds: start the new part on a fresh one.
	mark := w.sim.Now().Truncate(time.Second).Add(time.Second)
	for !w.sim.Now().After(mark) {
		if err := w.sim.Clock().Sleep(ctx, mark.Sub(w.sim.Now())+time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	pages := func() int { return len(w.requests(http.MethodGet, "/app/hook/deliveries")) }

	before := pages()
	if got, err := w.client.ListFailedDeliveries(ctx, mark); err != nil || len(got) != 0 {
		t.Fatalf("nothing new: got %d (err %v), want none", len(got), err)
	}
	if n := pages() - before; n != 1 {
		t.Fatalf("nothing new cost %d requests, want one page", n)
	}
	if _, err := w.client.Dispatch(ctx, dispatchReq(w)); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	before = pages()
	got, err := w.client.ListFailedDeliveries(ctx, mark)
	if err != nil || len(got) == 0 {
		t.Fatalf("after one more dispatch: got %d (err %v), want its failed deliveries", len(got), err)
	}
	for _, d := range got {
		if d.DeliveredAt.Before(mark) {
			t.Errorf("delivery %s of %s is older than since %s", d.GUID, d.DeliveredAt, mark)
		}
	}
	if n := pages() - before; n != 1 {
		t.Fatalf("a few new deliveries cost %d requests, want one page", n)
	}
}
