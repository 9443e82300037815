package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// staleExamples are the @octokit/webhooks-examples 7.6.1 payloads that
// @octokit/webhooks-schemas 7.6.1 refuses. Each is the oldest example of its
// event, captured from GitHub's docs before GitHub added fields the schema now
// requires (repository.is_template, workflow_job.created_at, installation
// .suspended_at ...); the workflow_run one is an "completed" action carrying a
// queued run with conclusion null, which GitHub never sends. They are listed
// so that everything else must validate, and so that a release fixing them
// makes this test fail and the list shrink.
var staleExamples = map[string]map[int]string{
	"installation":              {0: "/installation"},
	"installation_repositories": {0: "requester"},
	"issue_comment":             {0: "/issue"},
	"ping":                      {0: "/hook"},
	"workflow_job":              {0: "/repository"},
	"workflow_run":              {0: "/repository"},
}

func TestWebhookExamplesValidate(t *testing.T) {
	t.Parallel()
	v := New(t)
	for event, stale := range staleExamples {
		for i, ex := range Examples(t, event) {
			t.Run(fmt.Sprintf("%s/%d_%s", event, i, ex.Action), func(t *testing.T) {
				err := v.Webhook(event, ex.Payload)
				if want, ok := stale[i]; ok {
					wantRefused(t, err, want)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	v := New(t)
	queued := findExample(t, v, "workflow_job", "queued")
	cases := []struct {
		name    string
		event   string
		payload []byte
		want    string
	}{
		{"runner_id as string is refused", "workflow_job",
			edit(t, queued, func(m map[string]any) { m["workflow_job"].(map[string]any)["runner_id"] = "5" }),
			"/workflow_job/runner_id: must be integer"},
		{"queued job with status completed is refused", "workflow_job",
			edit(t, queued, func(m map[string]any) { m["workflow_job"].(map[string]any)["status"] = "completed" }),
			"/workflow_job/status"},
		{"unexpected top-level field is refused", "workflow_job",
			edit(t, queued, func(m map[string]any) { m["runner_pool"] = "gpu" }),
			`must NOT have additional property "runner_pool"`},
		{"missing sender is refused", "workflow_job",
			edit(t, queued, func(m map[string]any) { delete(m, "sender") }),
			"must have required property 'sender'"},
		{"unknown action is refused", "workflow_job",
			edit(t, queued, func(m map[string]any) { m["action"] = "started" }),
			`unknown workflow_job action "started"`},
		{"missing action is refused", "workflow_job",
			edit(t, queued, func(m map[string]any) { delete(m, "action") }),
			`must have an "action"`},
		{"unknown event is refused", "workflow_jobs", queued, `unknown webhook event "workflow_jobs"`},
		{"non-JSON payload is refused", "workflow_job", []byte("action=queued"), "not a JSON object"},
		{"JSON array payload is refused", "ping", []byte(`[]`), "not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantRefused(t, v.Webhook(tc.event, tc.payload), tc.want)
		})
	}
}

// Answers must reach the caller that asked: interleave valid and invalid
// payloads from many goroutines and check each verdict.
func TestValidatorConcurrentCallersGetTheirOwnAnswers(t *testing.T) {
	t.Parallel()
	v := New(t)
	good := findExample(t, v, "workflow_job", "queued")
	bad := edit(t, good, func(m map[string]any) { m["workflow_job"].(map[string]any)["runner_id"] = "5" })
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				wantOK := (g+i)%2 == 0
				payload := bad
				if wantOK {
					payload = good
				}
				err := v.Webhook("workflow_job", payload)
				var mm *Mismatch
				switch {
				case wantOK && err != nil:
					errs <- fmt.Errorf("goroutine %d call %d: valid payload refused: %w", g, i, err)
				case !wantOK && !errors.As(err, &mm):
					errs <- fmt.Errorf("goroutine %d call %d: invalid payload got %v", g, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestValidatorAfterCleanupFailsClearly(t *testing.T) {
	t.Parallel()
	var v *Validator
	t.Run("owner", func(t *testing.T) { v = New(t) })
	err := v.Webhook("ping", []byte(`{}`))
	var mm *Mismatch
	if err == nil || errors.As(err, &mm) {
		t.Fatalf("want an infrastructure error from a stopped validator, got %v", err)
	}
}

// findExample returns the first example of event and action that the schema
// accepts, so that a refusal in a test is caused by the test's own edit.
func findExample(t *testing.T, v *Validator, event, action string) []byte {
	t.Helper()
	for _, ex := range Examples(t, event) {
		if ex.Action == action && v.Webhook(event, ex.Payload) == nil {
			return ex.Payload
		}
	}
	t.Fatalf("no %s.%s example passes the schema", event, action)
	return nil
}
