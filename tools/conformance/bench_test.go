package conformance

import "testing"

// The validator must answer in milliseconds once warm: these measure one
// round trip through the Node process after the first (compiling) call.

func BenchmarkWebhookWorkflowJob(b *testing.B) {
	v := New(b)
	var payload []byte
	for _, ex := range Examples(b, "workflow_job") {
		if ex.Action == "queued" && v.Webhook("workflow_job", ex.Payload) == nil {
			payload = ex.Payload
			break
		}
	}
	if payload == nil {
		b.Fatal("no valid workflow_job.queued example")
	}
	b.ResetTimer()
	for b.Loop() {
		if err := v.Webhook("workflow_job", payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRESTRunnersList(b *testing.B) {
	v := New(b)
	body := []byte(`{"total_count":1,"runners":[{"id":23,"name":"r","os":"linux","status":"online","busy":true,` +
		`"ephemeral":false,"labels":[{"id":5,"name":"self-hosted","type":"read-only"}]}]}`)
	if err := v.REST(APIGitHubCom, "GET", "/api/v3/orgs/o/actions/runners?per_page=100", 200, body); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := v.REST(APIGitHubCom, "GET", "/api/v3/orgs/o/actions/runners?per_page=100", 200, body); err != nil {
			b.Fatal(err)
		}
	}
}
