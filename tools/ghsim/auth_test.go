package ghsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
)

func TestGoGithubappClientCreatorListsRunnersUnchanged(t *testing.T) {
	w := newTestWorld(t, Options{})
	if _, err := w.sim.AddRunner(Runner{Name: "r1", Scope: "org:acme", Labels: []string{"self-hosted", "sync"}, Online: true}); err != nil {
		t.Fatal(err)
	}
	cc, err := githubapp.NewDefaultCachingClientCreator(githubapp.Config{
		V3APIURL: w.sim.APIURL(),
		App: struct {
			IntegrationID int64  `yaml:"integration_id" json:"integrationId"`
			WebhookSecret string `yaml:"webhook_secret" json:"webhookSecret"`
			PrivateKey    string `yaml:"private_key" json:"privateKey"`
		}{IntegrationID: w.sim.AppID(), WebhookSecret: w.sim.WebhookSecret(), PrivateKey: string(w.sim.PrivateKeyPEM())},
	})
	if err != nil {
		t.Fatalf("client creator: %v", err)
	}
	ctx := context.Background()
	appClient, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	inst, _, err := appClient.Apps.GetOrganizationInstallation(ctx, "acme")
	if err != nil {
		t.Fatalf("find installation: %v", err)
	}
	if inst.GetID() != w.ins {
		t.Fatalf("installation id = %d, want %d", inst.GetID(), w.ins)
	}
	client, err := cc.NewInstallationClient(inst.GetID())
	if err != nil {
		t.Fatal(err)
	}
	runners, resp, err := client.Actions.ListOrganizationRunners(ctx, "acme", &github.ListRunnersOptions{})
	if err != nil {
		t.Fatalf("list runners: %v", err)
	}
	if runners.TotalCount != 1 || runners.Runners[0].GetName() != "r1" || runners.Runners[0].GetStatus() != "online" {
		t.Fatalf("runners = %+v", runners)
	}
	if resp.Rate.Limit != 5000 || resp.Rate.Remaining >= 5000 {
		t.Fatalf("rate = %+v, want the installation's 5000 budget with use counted", resp.Rate)
	}
	details, _, err := client.Actions.CreateWorkflowDispatchEventByFileName(ctx, "acme", "infra", "sync.yml", github.CreateWorkflowDispatchEventRequest{
		Ref: "main", Inputs: map[string]any{"network": "hoodi"}, ReturnRunDetails: github.Ptr(true)})
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	run, _, err := client.Actions.GetWorkflowRunByID(ctx, "acme", "infra", details.GetWorkflowRunID())
	if err != nil || run.GetStatus() == "" || run.GetStatus() == "completed" || run.GetEvent() != "workflow_dispatch" || run.GetActor().GetLogin() != "dispatchoor-sim[bot]" {
		t.Fatalf("run = %+v, %v", run, err)
	}
	if w.sim.CountDispatches() != 1 {
		t.Fatalf("CountDispatches = %d", w.sim.CountDispatches())
	}
	reqs := w.sim.Requests(func(r Request) bool { return strings.HasSuffix(r.Path, "/actions/runners") })
	if len(reqs) != 1 || reqs[0].InstallationID != w.ins {
		t.Fatalf("recorded = %v", reqs)
	}
}

func TestAppJWTRejections(t *testing.T) {
	w := newTestWorld(t, Options{})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := strconv.FormatInt(w.sim.AppID(), 10)
	now := time.Now()
	key := w.sim.opts.PrivateKey
	cases := []struct {
		name    string
		token   string
		status  int
		message string
	}{
		{"valid token is accepted", signJWT(t, key, iss, now.Add(-30*time.Second), now.Add(2*time.Minute)), 200, ""},
		{"expired token is refused", signJWT(t, key, iss, now.Add(-15*time.Minute), now.Add(-5*time.Minute)), 401, "'Expiration time'"},
		{"exp more than ten minutes ahead is refused", signJWT(t, key, iss, now, now.Add(20*time.Minute)), 401, "too far in the future"},
		{"token signed by another key is refused", signJWT(t, other, iss, now, now.Add(time.Minute)), 401, "could not be decoded"},
		{"unknown issuer is refused", signJWT(t, key, "999999", now, now.Add(time.Minute)), 401, "'Issuer' claim"},
		{"garbage is refused", "not-a-jwt", 401, "could not be decoded"},
		{"no credential is refused", "", 401, "Requires authentication"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, "GET", w.sim.APIURL()+"app", tc.token, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if tc.status != 200 {
				e := decode[map[string]string](t, body)
				if !strings.Contains(e["message"], tc.message) || e["documentation_url"] == "" || e["status"] != "401" {
					t.Fatalf("error body = %s", body)
				}
			}
		})
	}
}

func TestInstallationTokens(t *testing.T) {
	t.Run("token expires after an hour of simulated time", func(t *testing.T) {
		// At 36000x one simulated hour is 100ms.
		w := newTestWorld(t, Options{Speed: 36000})
		tok := w.token(t, w.ins)
		url := w.sim.APIURL() + "orgs/acme/actions/runners"
		if resp, body := doReq(t, "GET", url, tok, nil); resp.StatusCode != 200 {
			t.Fatalf("fresh token: %d %s", resp.StatusCode, body)
		}
		// Simulated time, not wall time, is what expires the token.
		if err := w.sim.Clock().Sleep(context.Background(), time.Hour+time.Minute); err != nil {
			t.Fatal(err)
		}
		resp, body := doReq(t, "GET", url, tok, nil)
		if resp.StatusCode != 401 || !strings.Contains(string(body), "Bad credentials") {
			t.Fatalf("expired token: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("expires_at is reported in wall-clock time", func(t *testing.T) {
		w := newTestWorld(t, Options{Speed: 60})
		resp, body := doReq(t, "POST", w.sim.APIURL()+"app/installations/"+strconv.FormatInt(w.ins, 10)+"/access_tokens", w.appJWT(t), nil)
		if resp.StatusCode != 201 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		got := decode[struct {
			ExpiresAt time.Time `json:"expires_at"`
		}](t, body).ExpiresAt
		if d := time.Until(got); d < 50*time.Second || d > 70*time.Second {
			t.Fatalf("expires in %v of real time, want ~1m (1h at 60x)", d)
		}
	})
	t.Run("installation token is refused on app endpoints and JWT on repo endpoints", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		tok := w.token(t, w.ins)
		if resp, _ := doReq(t, "GET", w.sim.APIURL()+"app", tok, nil); resp.StatusCode != 401 {
			t.Fatalf("installation token on /app: %d", resp.StatusCode)
		}
		if resp, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runners", w.appJWT(t), nil); resp.StatusCode != 401 {
			t.Fatalf("jwt on repo endpoint: %d", resp.StatusCode)
		}
	})
	t.Run("token of another installation sees 404", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		if _, err := w.sim.AddRepo(Repo{Owner: "other", Name: "stuff"}); err != nil {
			t.Fatal(err)
		}
		otherIns, err := w.sim.AddInstallation(Installation{Account: "other"})
		if err != nil {
			t.Fatal(err)
		}
		tok := w.token(t, otherIns)
		resp, body := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runs", tok, nil)
		if resp.StatusCode != 404 {
			t.Fatalf("cross-installation: %d %s", resp.StatusCode, body)
		}
		if resp, _ := doReq(t, "GET", w.sim.APIURL()+"repos/other/stuff/actions/runs", tok, nil); resp.StatusCode != 200 {
			t.Fatalf("own repo: %d", resp.StatusCode)
		}
	})
	t.Run("unknown installation is 404 and suspended is 403", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		resp, _ := doReq(t, "POST", w.sim.APIURL()+"app/installations/424242/access_tokens", w.appJWT(t), nil)
		if resp.StatusCode != 404 {
			t.Fatalf("unknown: %d", resp.StatusCode)
		}
		if err := w.sim.SendInstallation("suspend", w.ins, ""); err != nil {
			t.Fatal(err)
		}
		resp, _ = doReq(t, "POST", w.sim.APIURL()+"app/installations/"+strconv.FormatInt(w.ins, 10)+"/access_tokens", w.appJWT(t), nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("suspended: %d", resp.StatusCode)
		}
	})
}
