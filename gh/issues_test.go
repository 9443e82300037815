package gh_test

import (
	"testing"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestCommentsReactionsAndPermissions(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := ctxT(t)
	if err := w.sim.AddIssue("acme/app", 7, "flaky sync", false); err != nil {
		t.Fatal(err)
	}
	w.sim.AddUser(ghsim.User{Login: "maya", Perms: map[string]ghsim.Permission{"acme/app": ghsim.PermMaintain}})
	w.sim.AddUser(ghsim.User{Login: "bob"})

	cm, err := w.client.CreateComment(ctx, w.inst, "acme", "app", 7, "queued as job 42")
	if err != nil || cm.ID == 0 || cm.HTMLURL == "" {
		t.Fatalf("create comment: %+v, %v", cm, err)
	}
	if err := w.client.EditComment(ctx, w.inst, "acme", "app", cm.ID, "✅ job 42 succeeded"); err != nil {
		t.Fatalf("edit comment: %v", err)
	}
	comments := w.sim.Comments()
	if len(comments) != 1 || comments[0].Body != "✅ job 42 succeeded" {
		t.Errorf("simulator comments = %+v, want the edited one", comments)
	}
	if err := w.client.AddReaction(ctx, w.inst, "acme", "app", cm.ID, "rocket"); err != nil {
		t.Fatalf("add reaction: %v", err)
	}
	if r := w.sim.Reactions(); len(r) != 1 || r[0].Content != "rocket" || r[0].CommentID != cm.ID {
		t.Errorf("simulator reactions = %+v, want one rocket on %d", r, cm.ID)
	}
	if err := w.client.AddReaction(ctx, w.inst, "acme", "app", cm.ID, "party"); !gh.IsPermanent(err) {
		t.Errorf("unknown reaction: want a permanent error, got %v", err)
	}
	if _, err := w.client.CreateComment(ctx, w.inst, "acme", "app", 8, "x"); !gh.IsPermanent(err) {
		t.Errorf("comment on a missing issue: want a permanent error, got %v", err)
	}

	// The repository is public, so a non-collaborator still reads it.
	for user, want := range map[string]string{"maya": "maintain", "bob": "read"} {
		got, err := w.client.CollaboratorPermission(ctx, w.inst, "acme", "app", user)
		if err != nil || got != want {
			t.Errorf("permission of %s = %q (err %v), want %q", user, got, err, want)
		}
	}
}
