package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Example is one real payload from @octokit/webhooks-examples.
type Example struct {
	Event   string // the X-GitHub-Event header value
	Action  string // the payload's action, "" for events without one (ping)
	Payload []byte
}

// Examples returns every github.com example payload of event, in the
// package's order. The package ships one api.github.com/index.json: a list of
// {name, actions, examples[]} per event. An event without examples fails the
// test: asking for one is a typo.
//
// Some examples predate fields the schemas now require (see README.md), so
// they are realistic input for handlers but not all pass Validator.Webhook.
func Examples(t testing.TB, event string) []Example {
	t.Helper()
	file := filepath.Join(Dir(t), "node_modules", "@octokit", "webhooks-examples", "api.github.com", "index.json")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("conformance: read webhook examples: %v", err)
	}
	var defs []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &defs); err != nil {
		t.Fatalf("conformance: decode %s: %v", file, err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
		if d.Name != event {
			continue
		}
		out := make([]Example, 0, len(d.Examples))
		for i, p := range d.Examples {
			var head struct {
				Action string `json:"action"`
			}
			if err := json.Unmarshal(p, &head); err != nil {
				t.Fatalf("conformance: %s example %d: %v", event, i, err)
			}
			out = append(out, Example{Event: event, Action: head.Action, Payload: p})
		}
		if len(out) == 0 {
			break
		}
		return out
	}
	sort.Strings(names)
	t.Fatalf("conformance: @octokit/webhooks-examples has no example for event %q (events: %v)", event, names)
	return nil
}
