package ghsim

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestManifestFlowCreatesAWorkingApp(t *testing.T) {
	w := newTestWorld(t, Options{})
	s := w.sim
	form := url.Values{"manifest": {`{"name":"Dispatchoor Prod","url":"http://example.test","redirect_url":"http://example.test/api/v1/setup/callback?x=1","hook_attributes":{"url":"http://example.test/webhooks"}}`}}
	resp, err := noRedirect.PostForm(s.BaseURL()+"/settings/apps/new?state=abc", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Host != "example.test" || loc.Query().Get("x") != "1" || loc.Query().Get("state") != "abc" {
		t.Fatalf("redirect %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")
	r, body := doReq(t, "POST", s.APIURL()+"app-manifests/"+code+"/conversions", "", nil)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("conversion: %d %s", r.StatusCode, body)
	}
	conv := decode[struct {
		ID            int64  `json:"id"`
		Slug          string `json:"slug"`
		PEM           string `json:"pem"`
		WebhookSecret string `json:"webhook_secret"`
		ClientID      string `json:"client_id"`
		ClientSecret  string `json:"client_secret"`
	}](t, body)
	if conv.ID == 0 || conv.Slug != "dispatchoor-prod" || conv.WebhookSecret == "" || conv.ClientID == "" || conv.ClientSecret == "" {
		t.Fatalf("conversion = %s", body)
	}
	if r, _ := doReq(t, "POST", s.APIURL()+"app-manifests/"+code+"/conversions", "", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("second conversion: %d, want 404 (codes are single use)", r.StatusCode)
	}
	block, _ := pem.Decode([]byte(conv.PEM))
	if block == nil {
		t.Fatal("pem does not decode")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r, body = doReq(t, "GET", s.APIURL()+"app", signJWT(t, key, strconv.FormatInt(conv.ID, 10), now, now.Add(time.Minute)), nil)
	if r.StatusCode != 200 || !strings.Contains(string(body), `"slug":"dispatchoor-prod"`) {
		t.Fatalf("new app's JWT: %d %s", r.StatusCode, body)
	}
	for _, bad := range []string{"", `{"name":"x"}`, "not json"} {
		resp, err := noRedirect.PostForm(s.BaseURL()+"/settings/apps/new", url.Values{"manifest": {bad}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("manifest %q: %d", bad, resp.StatusCode)
		}
	}
}

func TestOAuthLogin(t *testing.T) {
	w := newTestWorld(t, Options{})
	s := w.sim
	authorize := func(q url.Values) *http.Response {
		resp, err := noRedirect.Get(s.BaseURL() + "/login/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	exchange := func(form url.Values, accept string) string {
		req, _ := http.NewRequest("POST", s.BaseURL()+"/login/oauth/access_token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("access_token status %d", resp.StatusCode)
		}
		return string(b)
	}
	cb := "http://app.test/auth/callback"
	if resp := authorize(url.Values{"client_id": {"nope"}, "redirect_uri": {cb}}); resp.StatusCode != 404 {
		t.Fatalf("unknown client: %d", resp.StatusCode)
	}
	if resp := authorize(url.Values{"client_id": {s.ClientID()}, "redirect_uri": {cb}}); resp.StatusCode != 200 {
		t.Fatalf("nobody logged in should show a sign-in page, got %d", resp.StatusCode)
	}
	s.SetOAuthUser("alice")
	resp := authorize(url.Values{"client_id": {s.ClientID()}, "redirect_uri": {cb}, "state": {"s1"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "s1" || !strings.HasPrefix(loc.String(), cb) {
		t.Fatalf("authorize: %d %v", resp.StatusCode, loc)
	}
	code := loc.Query().Get("code")
	if got := exchange(url.Values{"client_id": {s.ClientID()}, "client_secret": {"wrong"}, "code": {code}}, "application/json"); !strings.Contains(got, "incorrect_client_credentials") {
		t.Fatalf("wrong secret: %s", got)
	}
	got := exchange(url.Values{"client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}, "code": {code}}, "")
	vals, err := url.ParseQuery(got)
	if err != nil || !strings.HasPrefix(vals.Get("access_token"), "ghu_") || vals.Get("token_type") != "bearer" {
		t.Fatalf("form-encoded answer: %q", got)
	}
	if again := exchange(url.Values{"client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}, "code": {code}}, "application/json"); !strings.Contains(again, "bad_verification_code") {
		t.Fatalf("reused code: %s", again)
	}
	userTok := vals.Get("access_token")
	r, body := doReq(t, "GET", s.APIURL()+"user", userTok, nil)
	if r.StatusCode != 200 || decode[map[string]any](t, body)["login"] != "alice" {
		t.Fatalf("/user: %d %s", r.StatusCode, body)
	}
	r, body = doReq(t, "GET", s.APIURL()+"user/orgs", userTok, nil)
	if orgs := decode[[]map[string]any](t, body); r.StatusCode != 200 || len(orgs) != 1 || orgs[0]["login"] != "acme" {
		t.Fatalf("/user/orgs: %d %s", r.StatusCode, body)
	}
	if r, _ := doReq(t, "GET", s.APIURL()+"orgs/acme/actions/runners", userTok, nil); r.StatusCode != 403 {
		t.Fatalf("user token on an installation endpoint: %d", r.StatusCode)
	}
}

func TestHookDeliveriesAPI(t *testing.T) {
	w := newTestWorld(t, Options{})
	rc := newReceiver(t, w.sim, "s3cret")
	pingN(t, w.sim, 5)
	jwt := w.appJWT(t)
	var ids []int64
	next := w.sim.APIURL() + "app/hook/deliveries?per_page=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("cursor paging does not end")
		}
		resp, body := doReq(t, "GET", next, jwt, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		for _, d := range decode[[]struct {
			ID         int64  `json:"id"`
			Event      string `json:"event"`
			StatusCode int    `json:"status_code"`
		}](t, body) {
			if d.Event != "ping" || d.StatusCode != 200 {
				t.Fatalf("delivery %+v", d)
			}
			ids = append(ids, d.ID)
		}
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">")
		}
	}
	if len(ids) != 5 || ids[0] < ids[4] {
		t.Fatalf("ids %v: want all 5, newest first", ids)
	}
	resp, body := doReq(t, "GET", fmt.Sprintf("%sapp/hook/deliveries/%d", w.sim.APIURL(), ids[0]), jwt, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"X-Github-Event":"ping"`) {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	resp, _ = doReq(t, "POST", fmt.Sprintf("%sapp/hook/deliveries/%d/attempts", w.sim.APIURL(), ids[0]), jwt, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("redeliver: %d", resp.StatusCode)
	}
	if err := w.sim.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rc.events()
	if len(got) != 6 || got[5].GUID != got[4].GUID {
		t.Fatalf("redelivery should repeat the GUID of the newest ping: %v", got)
	}
	if r, _ := doReq(t, "GET", w.sim.APIURL()+"app/hook/deliveries?cursor=%21%21", jwt, nil); r.StatusCode != 422 {
		t.Fatalf("bad cursor: %d", r.StatusCode)
	}
}

func TestListenAndServeStandalone(t *testing.T) {
	s, err := New(Options{PrivateKey: sharedKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	eventually(t, 3*time.Second, "listener", func() bool { return !strings.Contains(s.BaseURL(), "invalid") })
	resp, body := doReq(t, "GET", s.APIURL()+"app", "", nil)
	if resp.StatusCode != 401 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
