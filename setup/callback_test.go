package setup_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/setup"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// A refused callback must store nothing and must not even reach GitHub: the
// App code stays unconverted.
func TestCallbackRefusesBadStatesAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	otherKey := newEnv(t, storetest.SQLite(t), nil) // issues states under another key
	cases := []struct {
		name     string
		prepare  func(e *env, callback string) (client *http.Client, u string)
		wantCode string
	}{
		{"state from another browser (no cookie) is a CSRF attempt", func(e *env, cb string) (*http.Client, string) {
			return browser(t), cb
		}, "state_mismatch"},
		{"forged state", func(e *env, cb string) (*http.Client, string) {
			return nil, withQuery(t, cb, "state", "Zm9yZ2Vk")
		}, "invalid_state"},
		{"state sealed under another server's key", func(e *env, cb string) (*http.Client, string) {
			a, _ := otherKey.openSetup(browser(t), "")
			st, _ := url.Parse(a)
			return nil, withQuery(t, cb, "state", st.Query().Get("state"))
		}, "invalid_state"},
		{"expired state", func(e *env, cb string) (*http.Client, string) {
			e.clock.Add(31 * time.Minute)
			return nil, cb
		}, "state_expired"},
		{"state of an older tab after a newer one replaced the cookie", func(e *env, cb string) (*http.Client, string) {
			return nil, cb // the browser opened /setup again below
		}, "state_mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.SQLite(t)
			e := newEnv(t, st, nil)
			b := browser(t)
			action, manifest := e.openSetup(b, "")
			cb := e.submit(b, action, manifest)
			if strings.HasPrefix(tc.name, "state of an older tab") {
				e.openSetup(b, "")
			}
			c, u := tc.prepare(e, cb)
			if c == nil {
				c = b
			}
			resp, body := do(t, c, "GET", u, nil)
			if _, code := apiError(t, body); resp.StatusCode != http.StatusBadRequest || code != tc.wantCode {
				t.Fatalf("callback: %d %s, want 400 %s", resp.StatusCode, body, tc.wantCode)
			}
			if _, err := st.GetSecret(ctx, setup.SecretKey); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("something was stored: %v", err)
			}
			if n := len(e.onConfiguredCalls()); n != 0 {
				t.Fatalf("OnConfigured called %d times", n)
			}
			code := mustQuery(t, cb, "code")
			if resp, body := do(t, browser(t), "POST", e.sim.APIURL()+"app-manifests/"+code+"/conversions", nil); resp.StatusCode != http.StatusCreated {
				t.Fatalf("the code was spent by a refused callback: %d %s", resp.StatusCode, body)
			}
		})
	}
}

func mustQuery(t testing.TB, u, key string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Query().Get(key) == "" {
		t.Fatalf("%s has no %s", u, key)
	}
	return p.Query().Get(key)
}

func TestStateIsSingleUseEvenWhenTheConversionFails(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	e := newEnv(t, st, nil)
	b := browser(t)
	action, manifest := e.openSetup(b, "")
	cb := e.submit(b, action, manifest)
	// What an attacker who captured the whole request would replay.
	cbURL, _ := url.Parse(cb)
	cookies := b.Jar.Cookies(cbURL)
	if len(cookies) != 1 {
		t.Fatalf("browser holds %d cookies for the callback, want the state cookie", len(cookies))
	}

	resp, body := do(t, b, "GET", withQuery(t, cb, "code", "not-a-real-code"), nil)
	if _, code := apiError(t, body); resp.StatusCode != http.StatusBadGateway || code != "conversion_failed" || !strings.Contains(body, "404") {
		t.Fatalf("unknown code: %d %s, want 502 conversion_failed mentioning GitHub's 404", resp.StatusCode, body)
	}
	if left := b.Jar.Cookies(cbURL); len(left) != 0 {
		t.Fatalf("callback left the state cookie in the browser: %v", left)
	}
	// Replaying the state with its cookie, now with the good code, is
	// refused before GitHub is asked.
	replay := &http.Client{Jar: b.Jar, CheckRedirect: b.CheckRedirect}
	b.Jar.SetCookies(cbURL, cookies)
	resp, body = do(t, replay, "GET", cb, nil)
	if _, code := apiError(t, body); resp.StatusCode != http.StatusBadRequest || code != "state_used" {
		t.Fatalf("replayed state with its cookie: %d %s, want 400 state_used", resp.StatusCode, body)
	}
	if _, err := st.GetSecret(ctx, setup.SecretKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("something was stored: %v", err)
	}
	if resp, body := do(t, browser(t), "POST", e.sim.APIURL()+"app-manifests/"+mustQuery(t, cb, "code")+"/conversions", nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a replay spent the good code: %d %s", resp.StatusCode, body)
	}
}

func TestCallbackRefusesCodesThatAreNotOnePathSegment(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), nil)
	for _, bad := range []string{"../../user", "a/b", "..", "a.b", "a%2Fb", ""} {
		t.Run(bad, func(t *testing.T) {
			b := browser(t)
			a, _ := e.openSetup(b, "")
			u := e.base + "/api/v1/setup/callback?" + url.Values{"code": {bad}, "state": {mustQuery(t, a, "state")}}.Encode()
			if resp, body := do(t, b, "GET", u, nil); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("code %q: %d %s, want 400", bad, resp.StatusCode, body)
			}
		})
	}
	if reqs := e.sim.Requests(nil); len(reqs) != 0 {
		t.Fatalf("a bad code reached GitHub: %+v", reqs)
	}
}

// Two browsers finishing setup at the same time must not create and store
// two Apps: one wins, the other is told setup is done.
func TestConcurrentCallbacksStoreOneApp(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), nil)
	var callbacks []string
	var browsers []*http.Client
	for range 2 {
		b := browser(t)
		a, m := e.openSetup(b, "")
		callbacks, browsers = append(callbacks, e.submit(b, a, m)), append(browsers, b)
	}
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			resp, _ := do(t, browsers[i], "GET", callbacks[i], nil)
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	won, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusSeeOther:
			won++
		case http.StatusConflict:
			refused++
		}
	}
	if won != 1 || refused != 1 {
		t.Fatalf("statuses %v, want one 303 and one 409", statuses)
	}
	calls := e.onConfiguredCalls()
	loaded, ok, err := setup.Load(context.Background(), e.st, e.box)
	if len(calls) != 1 || err != nil || !ok || loaded.AppID != calls[0].AppID {
		t.Fatalf("stored %v (ok %v, err %v), OnConfigured %v", loaded, ok, err, calls)
	}
}
