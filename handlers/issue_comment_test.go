package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/command"
	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/slash"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

const icSecret = "issue-comment-secret"

// icEndpoint is the webhook endpoint with only the issue_comment handler,
// on a real store.
func icEndpoint(t *testing.T, s *store.Store, c CommentHandler) http.Handler {
	t.Helper()
	b := &base{store: s, log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		waker: nopWaker{}, reconciler: nopReconciler{}, metrics: nopMetrics{}}
	return newEndpoint(b, icSecret, []githubapp.EventHandler{newIssueComment(b, c)})
}

// recordingSlash is a CommentHandler that remembers what it was given.
type recordingSlash struct {
	mu        sync.Mutex
	relevant  bool
	submitted []command.Comment
}

func (r *recordingSlash) Relevant(command.Comment) (bool, string) { return r.relevant, "test says no" }

func (r *recordingSlash) Submit(c command.Comment) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submitted = append(r.submitted, c)
}

func (r *recordingSlash) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.submitted)
}

func icPost(t *testing.T, h http.Handler, delivery string, body []byte) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(icSecret))
	mac.Write(body)
	req := httptest.NewRequest(http.MethodPost, Route, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(github.SHA256SignatureHeader, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func icPayload(t *testing.T, action string) []byte {
	t.Helper()
	b, err := json.Marshal(&github.IssueCommentEvent{
		Action:       github.Ptr(action),
		Issue:        &github.Issue{Number: github.Ptr(3)},
		Comment:      &github.IssueComment{ID: github.Ptr(int64(99)), Body: github.Ptr("/dispatch help"), User: &github.User{Login: github.Ptr("mia"), Type: github.Ptr("User")}},
		Repo:         &github.Repository{Name: github.Ptr("infra"), FullName: github.Ptr("acme/infra"), Owner: &github.User{Login: github.Ptr("acme")}},
		Installation: &github.Installation{ID: github.Ptr(int64(5))},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIssueCommentHandler(t *testing.T) {
	t.Run("a relevant comment is submitted once per delivery id", func(t *testing.T) {
		s := storetest.SQLite(t)
		rs := &recordingSlash{relevant: true}
		h := icEndpoint(t, s, rs)
		body := icPayload(t, "created")
		for range 2 {
			if code := icPost(t, h, "d-1", body); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		}
		if n := rs.count(); n != 1 {
			t.Fatalf("submitted %d times for one delivery sent twice, want 1", n)
		}
		c := rs.submitted[0]
		if c.Owner != "acme" || c.Repo != "infra" || c.Issue != 3 || c.CommentID != 99 || c.InstallationID != 5 || c.Author != "mia" {
			t.Errorf("decoded comment = %+v", c)
		}
	})
	t.Run("an irrelevant comment is neither submitted nor recorded", func(t *testing.T) {
		s := storetest.SQLite(t)
		rs := &recordingSlash{relevant: false}
		h := icEndpoint(t, s, rs)
		if code := icPost(t, h, "d-2", icPayload(t, "edited")); code != http.StatusOK {
			t.Fatalf("status %d, want 200", code)
		}
		if rs.count() != 0 {
			t.Error("an irrelevant comment was submitted")
		}
		err := s.RecordDelivery(context.Background(), "d-2", "issue_comment", "edited")
		if errors.Is(err, store.ErrDuplicate) {
			t.Error("an irrelevant comment's delivery was recorded")
		} else if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an undecodable payload is a 400", func(t *testing.T) {
		h := icEndpoint(t, storetest.SQLite(t), &recordingSlash{relevant: true})
		if code := icPost(t, h, "d-3", []byte(`{"action": 7}`)); code != http.StatusBadRequest {
			t.Errorf("status %d, want 400", code)
		}
	})
}

var icKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(crand.Reader, 2048) })

// TestIssueCommentThroughSimulator runs the whole path: the simulator sends
// signed issue_comment webhooks (each one twice, under the same delivery
// id) to the endpoint, which hands them to the real slash service, which
// queues on the real queue and answers through the real gh client.
func TestIssueCommentThroughSimulator(t *testing.T) {
	key, err := icKey()
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.SQLite(t)
	sim := ghsimtest.New(t, ghsim.Options{Seed: 1, PrivateKey: key, WebhookSecret: icSecret, Speed: 1000, AppSlug: "dispatchoor"})
	if _, err := sim.AddRepo(ghsim.Repo{Owner: "acme", Name: "infra", Workflows: []*ghsim.Workflow{{File: "sync.yml"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddInstallation(ghsim.Installation{Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	sim.AddUser(ghsim.User{Login: "mia", Perms: map[string]ghsim.Permission{"acme/infra": ghsim.PermMaintain}})
	sim.AddUser(ghsim.User{Login: "rita", Perms: map[string]ghsim.Permission{"acme/infra": ghsim.PermRead}})
	if _, err := s.SyncConfig(context.Background(),
		[]core.Group{{ID: "sync", Name: "Sync", RunnerLabels: []string{"sync"}, RunnerScope: "org:acme", Enabled: true}},
		[]core.Template{{ID: "sync-test", GroupID: "sync", Name: "Sync", Owner: "acme", Repo: "infra", WorkflowID: "sync.yml", Ref: "main"}},
	); err != nil {
		t.Fatal(err)
	}
	client, err := gh.New(gh.Options{APIURL: sim.APIURL(), AppID: sim.AppID(), PrivateKey: sim.PrivateKeyPEM()})
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(queue.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := slash.New(slash.Options{
		Config:    config.SlashCommands{Enabled: true, MinPermission: "write", Repos: []string{"acme/*"}},
		PublicURL: "https://d.example", GitHub: client, Queue: q, Store: s, Clock: sim.Clock(),
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	hook := httptest.NewServer(icEndpoint(t, s, svc))
	t.Cleanup(hook.Close)
	sim.SetWebhookURL(hook.URL)
	sim.SetFaults(ghsim.Faults{WebhookDuplicate: 1})

	send := func(ev ghsim.IssueComment) int64 {
		t.Helper()
		id, err := sim.SendIssueComment(ev)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sim.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		svc.Wait()
		return id
	}
	jobs := func() int {
		all, err := s.ListJobsByStatus(context.Background(), core.AllStatuses...)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}

	cid := send(ghsim.IssueComment{Repo: "acme/infra", Issue: 1, User: "mia", Body: "/dispatch sync-test"})
	if n := jobs(); n != 1 {
		t.Fatalf("one comment delivered twice queued %d jobs, want 1", n)
	}
	if ds := sim.Deliveries(); len(ds) == 0 || !ds[len(ds)-1].Duplicated {
		t.Fatal("the simulator did not send the delivery twice; the test proves nothing")
	}
	send(ghsim.IssueComment{Action: "edited", CommentID: cid, User: "mia", Body: "/dispatch sync-test\n/dispatch sync-test"})
	send(ghsim.IssueComment{Repo: "acme/infra", Issue: 1, User: "renovate[bot]", Body: "/dispatch sync-test"})
	send(ghsim.IssueComment{Repo: "acme/infra", Issue: 1, User: "rita", Body: "/dispatch sync-test"})
	if n := jobs(); n != 1 {
		t.Errorf("an edit, a bot and a read-only user queued %d more jobs", n-1)
	}
	var replies []string
	for _, c := range sim.Comments() {
		if c.User == "dispatchoor[bot]" {
			replies = append(replies, c.Body)
		}
	}
	if len(replies) != 2 || !strings.Contains(replies[0], "Queued job [#") || !strings.Contains(replies[1], "needs **write** permission") {
		t.Errorf("want the job's reply and rita's refusal, got %q", replies)
	}
	var eyes int
	for _, r := range sim.Reactions() {
		if r.CommentID == cid && r.Content == "eyes" {
			eyes++
		}
	}
	if eyes != 1 {
		t.Errorf("👀 reactions on the command comment: %d, want 1", eyes)
	}
}
