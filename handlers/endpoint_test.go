package handlers_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestNewRefusesMissingPieces(t *testing.T) {
	s := storetest.SQLite(t)
	h := newHarness(t, s)
	for name, o := range map[string]handlers.Options{
		"no store":  {Queue: h.q, WebhookSecret: secret},
		"no queue":  {Store: s, WebhookSecret: secret},
		"no secret": {Store: s, Queue: h.q},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := handlers.New(o); err == nil {
				t.Fatal("New accepted incomplete options")
			}
		})
	}
}

func TestSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		body, _ := json.Marshal(wjob{Action: "queued", ID: 1, RunID: 2}.payload())
		cases := []struct {
			name   string
			header map[string]string
			body   []byte
		}{
			{"missing signature is refused", nil, body},
			{"signature with another secret is refused", map[string]string{"X-Hub-Signature-256": sign("other", body)}, body},
			{"tampered body is refused", map[string]string{"X-Hub-Signature-256": sign(secret, body)}, append([]byte(`{"x":1,`), body[1:]...)},
			{"malformed signature is refused", map[string]string{"X-Hub-Signature-256": "sha256=zz"}, body},
			{"SHA-1 signature alone is refused", map[string]string{"X-Hub-Signature": "sha1=" + strings.Repeat("0", 40)}, body},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := h.postAs("workflow_job", "sig-"+string(rune('a'+i)), c.body, c.header)
				if r.Status != http.StatusUnauthorized || r.Body["code"] != "invalid_signature" || r.Body["error"] == "" {
					t.Fatalf("got %d %v, want 401 with a JSON error", r.Status, r.Body)
				}
				if n := h.deliveriesStored(); n != 0 {
					t.Fatalf("%d deliveries recorded after a refused one", n)
				}
				if _, err := s.GetGitHubJob(ctx, 1); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("github job stored after a refused delivery: %v", err)
				}
			})
		}
		if got := h.f.deliveries("unverified/invalid_signature"); got != len(cases) {
			t.Fatalf("invalid_signature counted %d times, want %d", got, len(cases))
		}
		t.Run("correct signature is applied", func(t *testing.T) {
			r := h.postID("workflow_job", "sig-ok", body)
			if r.Status != http.StatusOK || r.Body["outcome"] != "applied" {
				t.Fatalf("got %d %v", r.Status, r.Body)
			}
			if n := h.deliveriesStored(); n != 1 {
				t.Fatalf("%d deliveries recorded, want 1", n)
			}
		})
	})
}

func TestRequestShape(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t))
	body := []byte(`{"zen":"hi","hook_id":1}`)
	t.Run("missing delivery id is a bad request", func(t *testing.T) {
		r := h.postID("ping", "", body)
		if r.Status != http.StatusBadRequest || r.Body["code"] != "bad_request" {
			t.Fatalf("got %d %v", r.Status, r.Body)
		}
	})
	t.Run("missing event type is a bad request", func(t *testing.T) {
		r := h.postID("", "shape-1", body)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("got %d %v", r.Status, r.Body)
		}
	})
	t.Run("undecodable payload is a bad request, not a retryable failure", func(t *testing.T) {
		r := h.postID("workflow_job", "shape-2", []byte(`{"workflow_job": "nope"}`))
		if r.Status != http.StatusBadRequest {
			t.Fatalf("got %d %v", r.Status, r.Body)
		}
		if n := h.deliveriesStored(); n != 0 {
			t.Fatalf("%d deliveries recorded", n)
		}
	})
	t.Run("unknown event is acknowledged and counted", func(t *testing.T) {
		r := h.postID("star", "shape-3", []byte(`{"action":"created"}`))
		if r.Status != http.StatusAccepted || r.Body["outcome"] != "unhandled" {
			t.Fatalf("got %d %v", r.Status, r.Body)
		}
		if h.f.deliveries("other/unhandled") != 1 {
			t.Fatalf("unknown event not counted: %v", h.f.delivered)
		}
	})
}

func TestDuplicateDeliveryAppliedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		added := obj{"action": "added", "repository_selection": "selected",
			"installation":       obj{"id": 5, "account": obj{"login": "acme", "type": "Organization"}, "repository_selection": "selected"},
			"repositories_added": []obj{{"full_name": "acme/infra", "name": "infra"}}, "repositories_removed": []obj{}}
		removed := obj{"action": "removed", "repository_selection": "selected",
			"installation":         obj{"id": 5, "account": obj{"login": "acme", "type": "Organization"}, "repository_selection": "selected"},
			"repositories_removed": []obj{{"full_name": "acme/infra", "name": "infra"}}, "repositories_added": []obj{}}
		if r := h.postID("installation_repositories", "dup-1", added); r.Body["outcome"] != "applied" {
			t.Fatalf("first delivery: %d %v", r.Status, r.Body)
		}
		if r := h.postID("installation_repositories", "dup-2", removed); r.Body["outcome"] != "applied" {
			t.Fatalf("removal: %d %v", r.Status, r.Body)
		}
		r := h.postID("installation_repositories", "dup-1", added)
		if r.Status != http.StatusOK || r.Body["outcome"] != "duplicate" {
			t.Fatalf("redelivery: got %d %v, want 200 duplicate", r.Status, r.Body)
		}
		repos, err := s.ListInstallationRepos(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(repos) != 0 {
			t.Fatalf("duplicate was applied again: repos %v", repos)
		}
		if h.f.deliveries("installation_repositories/duplicate") != 1 {
			t.Fatalf("duplicate not counted: %v", h.f.delivered)
		}
	})
}

func TestStoreFailureRollsBackTheDeliveryRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s)
		h.addRunner(10, false, "self-hosted", "alpha")
		ev := wjob{Action: "in_progress", ID: 70, RunID: 71, RunnerID: 10}.payload()
		// Break the table the second statement of the delivery writes, after
		// the delivery record was inserted in the same transaction.
		if _, err := s.DB().Exec("ALTER TABLE github_jobs RENAME TO github_jobs_away"); err != nil {
			t.Fatal(err)
		}
		r := h.postID("workflow_job", "fail-1", ev)
		if r.Status != http.StatusInternalServerError || r.Body["code"] != "failed" {
			t.Fatalf("got %d %v, want 500", r.Status, r.Body)
		}
		if n := h.deliveriesStored(); n != 0 {
			t.Fatalf("delivery record survived the rollback (%d rows)", n)
		}
		if h.runner(10).Busy {
			t.Fatal("runner marked busy by a rolled-back delivery")
		}
		if _, err := s.DB().Exec("ALTER TABLE github_jobs_away RENAME TO github_jobs"); err != nil {
			t.Fatal(err)
		}
		if r := h.postID("workflow_job", "fail-1", ev); r.Status != http.StatusOK || r.Body["outcome"] != "applied" {
			t.Fatalf("redelivery: got %d %v, want it applied", r.Status, r.Body)
		}
		if rr := h.runner(10); !rr.Busy || rr.CurrentJobID != 70 {
			t.Fatalf("redelivery not applied: runner %+v", rr)
		}
		if h.f.deliveries("workflow_job/failed") != 1 {
			t.Fatalf("failure not counted: %v", h.f.delivered)
		}
	})
}
