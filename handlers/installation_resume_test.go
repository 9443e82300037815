package handlers_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// TestUsableInstallationResumesItsAccount: each event that makes the App
// usable on an account clears the back-off of that account's pending jobs,
// re-lists the runner scopes of that account's groups at once (a group's
// runner_scope, repo scopes included; not other accounts' scopes) and wakes
// the dispatcher; suspend and deleted do none of that.
func TestUsableInstallationResumesItsAccount(t *testing.T) {
	inst := map[string]any{"id": 42, "account": map[string]any{"login": "ACME", "type": "Organization"},
		"repository_selection": "selected"}
	repo := []map[string]any{{"id": 1, "name": "infra", "full_name": "acme/infra"}}
	cases := []struct {
		name, event string
		payload     map[string]any
		resumes     bool
	}{
		{"installation created", "installation", map[string]any{"action": "created", "installation": inst, "repositories": repo}, true},
		{"installation unsuspend", "installation", map[string]any{"action": "unsuspend", "installation": inst}, true},
		{"installation new_permissions_accepted", "installation", map[string]any{"action": "new_permissions_accepted", "installation": inst}, true},
		{"repositories added", "installation_repositories", map[string]any{"action": "added", "installation": inst,
			"repository_selection": "selected", "repositories_added": repo, "repositories_removed": []any{}}, true},
		{"installation suspend", "installation", map[string]any{"action": "suspend", "installation": inst}, false},
		{"installation deleted", "installation", map[string]any{"action": "deleted", "installation": inst}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				h := newHarness(t, s)
				groups := []core.Group{
					groupAlpha, // org:acme
					{ID: "beta", Name: "Beta", RunnerLabels: []string{"self-hosted"}, RunnerScope: "repo:acme/infra", Enabled: true},
					{ID: "gamma", Name: "Gamma", RunnerLabels: []string{"self-hosted"}, RunnerScope: "org:other", Enabled: true},
				}
				if _, err := s.SyncConfig(ctx, groups, []core.Template{tmplA1}); err != nil {
					t.Fatal(err)
				}
				j := h.job(core.StatusDispatching, 0, false)
				until := h.clock.now().Add(5 * time.Minute)
				if _, err := s.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching,
					To: core.StatusPending, AttemptID: j.AttemptID, DispatchAfter: &until,
					Error: "waiting for the App's installation: not installed"}); err != nil {
					t.Fatal(err)
				}
				h.post(tc.event, tc.payload)

				got, err := s.GetJob(ctx, j.ID)
				if err != nil {
					t.Fatal(err)
				}
				var scopes []string
				for _, sc := range h.f.schedules() {
					if sc.Delay != 0 {
						t.Fatalf("scope %s re-listed after %s, want at once", sc.Scope, sc.Delay)
					}
					scopes = append(scopes, sc.Scope)
				}
				slices.Sort(scopes)
				if !tc.resumes {
					if got.DispatchAfter == nil || len(scopes) != 0 {
						t.Fatalf("%s resumed the account: dispatch_after %v, scopes %v", tc.name, got.DispatchAfter, scopes)
					}
					return
				}
				if got.DispatchAfter != nil {
					t.Fatalf("job still backs off until %v", got.DispatchAfter)
				}
				if want := []string{"org:acme", "repo:acme/infra"}; !slices.Equal(scopes, want) {
					t.Fatalf("re-listed %v, want %v", scopes, want)
				}
				if h.f.wakeCount() == 0 {
					t.Fatal("the dispatcher was not woken")
				}
			})
		})
	}
}
