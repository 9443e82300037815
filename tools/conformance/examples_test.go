package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestExamplesCarryEventAndAction(t *testing.T) {
	t.Parallel()
	for _, event := range []string{"workflow_job", "workflow_run", "issue_comment", "installation", "installation_repositories", "ping"} {
		t.Run(event, func(t *testing.T) {
			exs := Examples(t, event)
			if len(exs) == 0 {
				t.Fatal("no examples")
			}
			for i, ex := range exs {
				var head struct {
					Action *string `json:"action"`
				}
				if err := json.Unmarshal(ex.Payload, &head); err != nil {
					t.Fatalf("example %d is not JSON: %v", i, err)
				}
				got := ""
				if head.Action != nil {
					got = *head.Action
				}
				if ex.Event != event || ex.Action != got {
					t.Errorf("example %d: Event=%q Action=%q, payload action %q", i, ex.Event, ex.Action, got)
				}
			}
		})
	}
}

func TestExamplesWorkflowJobCoversTheLifecycle(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, ex := range Examples(t, "workflow_job") {
		seen[ex.Action] = true
	}
	for _, action := range []string{"queued", "in_progress", "completed"} {
		if !seen[action] {
			t.Errorf("no workflow_job %s example", action)
		}
	}
}

// fatalRecorder stands in for a test so that a Fatalf can be observed rather
// than ending this test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }

func TestExamplesUnknownEventFailsTheTest(t *testing.T) {
	t.Parallel()
	r := &fatalRecorder{TB: t}
	if got := Examples(r, "workflow_jobz"); got != nil {
		t.Fatalf("want no examples, got %d", len(got))
	}
	if !strings.Contains(r.msg, `no example for event "workflow_jobz"`) || !strings.Contains(r.msg, "workflow_job") {
		t.Fatalf("unclear failure: %q", r.msg)
	}
}
