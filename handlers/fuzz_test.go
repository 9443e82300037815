package handlers_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/conformance"
)

var fuzzEvents = []string{"workflow_job", "workflow_run", "installation", "installation_repositories", "ping"}

// FuzzWebhookPayload sends correctly signed but arbitrary payloads for every
// handled event. Whatever the body, the answer is 200 (applied) or 400 (a
// payload that can never apply): never a panic, and never a 5xx, which would
// make the redelivery sweeper retry garbage forever.
func FuzzWebhookPayload(f *testing.F) {
	for i, ev := range fuzzEvents {
		for _, ex := range conformance.Examples(f, ev) {
			f.Add(uint8(i), ex.Payload)
		}
	}
	f.Add(uint8(0), []byte(`{"workflow_job":{"id":1,"run_id":2,"status":"queued"},"repository":{"full_name":"noslash"}}`))
	f.Add(uint8(2), []byte(`{"action":"created","installation":{"id":3,"account":{"login":""}}}`))
	f.Add(uint8(1), []byte(`{"workflow_run":{"id":5,"status":"completed"},"repository":{"full_name":"a/b"}}`))
	h := newHarness(f, storetest.SQLite(f))
	h.seedGroups()
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		event := fuzzEvents[int(kind)%len(fuzzEvents)]
		req := httptest.NewRequest(http.MethodPost, handlers.Route, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("fuzz-%d", seq.Add(1)))
		req.Header.Set("X-Hub-Signature-256", sign(secret, body))
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%s %q: got %d %s", event, body, rec.Code, rec.Body.String())
		}
	})
}
