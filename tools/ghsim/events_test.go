package ghsim

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestInstallationEventsChangeTheWorld(t *testing.T) {
	t.Run("removed repository is no longer reachable with the installation's token", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		rc := newReceiver(t, w.sim, "s3cret")
		if _, err := w.sim.AddRepo(Repo{Owner: "acme", Name: "extra"}); err != nil {
			t.Fatal(err)
		}
		tok := w.token(t, w.ins)
		if r, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/extra/actions/runners", tok, nil); r.StatusCode != 200 {
			t.Fatalf("before: %d", r.StatusCode)
		}
		if err := w.sim.SendInstallationRepositories(w.ins, nil, []string{"acme/extra"}, "alice"); err != nil {
			t.Fatal(err)
		}
		if r, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/extra/actions/runners", tok, nil); r.StatusCode != 404 {
			t.Fatalf("after removal: %d", r.StatusCode)
		}
		if r, _ := doReq(t, "GET", w.sim.APIURL()+"repos/acme/infra/actions/runners", tok, nil); r.StatusCode != 200 {
			t.Fatalf("other repo after removal: %d", r.StatusCode)
		}
		_ = w.sim.WaitIdle(context.Background())
		ev, ok := rc.events()[0].Value.(*github.InstallationRepositoriesEvent)
		if !ok || ev.GetAction() != "removed" || len(ev.RepositoriesRemoved) != 1 || ev.RepositoriesRemoved[0].GetFullName() != "acme/extra" || ev.GetRepositorySelection() != "selected" {
			t.Fatalf("event = %+v", rc.events()[0].Value)
		}
		if err := w.sim.SendInstallationRepositories(w.ins, []string{"acme/extra"}, []string{"acme/infra"}, ""); err == nil {
			t.Fatal("adding and removing in one event was accepted")
		}
	})
	t.Run("deleted installation can no longer mint tokens", func(t *testing.T) {
		w := newTestWorld(t, Options{})
		rc := newReceiver(t, w.sim, "s3cret")
		if err := w.sim.SendInstallation("deleted", w.ins, "alice"); err != nil {
			t.Fatal(err)
		}
		r, _ := doReq(t, "POST", w.sim.APIURL()+"app/installations/"+strconv.FormatInt(w.ins, 10)+"/access_tokens", w.appJWT(t), nil)
		if r.StatusCode != 404 {
			t.Fatalf("token after delete: %d", r.StatusCode)
		}
		_ = w.sim.WaitIdle(context.Background())
		ev, ok := rc.events()[0].Value.(*github.InstallationEvent)
		if !ok || ev.GetAction() != "deleted" || ev.GetInstallation().GetID() != w.ins || ev.GetInstallation().GetAccount().GetLogin() != "acme" {
			t.Fatalf("event = %+v", rc.events()[0].Value)
		}
		if err := w.sim.SendInstallation("bogus", w.ins, ""); err == nil {
			t.Fatal("unknown installation accepted")
		}
	})
}

func TestIssueCommentEvents(t *testing.T) {
	w := newTestWorld(t, Options{})
	rc := newReceiver(t, w.sim, "s3cret")
	id, err := w.sim.SendIssueComment(IssueComment{Repo: "acme/infra", Issue: 9, IsPR: true, User: "alice", Body: "/dispatch sync"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.SendIssueComment(IssueComment{Action: "edited", CommentID: id, Body: "/dispatch sync x2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.SendIssueComment(IssueComment{Action: "deleted", CommentID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.SendIssueComment(IssueComment{Action: "edited", CommentID: id, Body: "x"}); err == nil {
		t.Fatal("editing a deleted comment was accepted")
	}
	if _, err := w.sim.SendIssueComment(IssueComment{Repo: "nope/nope", Issue: 1, User: "alice"}); err == nil {
		t.Fatal("comment on an unknown repo was accepted")
	}
	_ = w.sim.WaitIdle(context.Background())
	got := rc.events()
	if len(got) != 3 {
		t.Fatalf("%d events", len(got))
	}
	for i, want := range []string{"created", "edited", "deleted"} {
		ev := got[i].Value.(*github.IssueCommentEvent)
		if ev.GetAction() != want || ev.GetComment().GetID() != id || !ev.GetIssue().IsPullRequest() || ev.GetInstallation().GetID() != w.ins {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	edited := got[1].Value.(*github.IssueCommentEvent)
	if edited.GetChanges().GetBody().GetFrom() != "/dispatch sync" || edited.GetComment().GetBody() != "/dispatch sync x2" {
		t.Fatalf("edited = %+v", edited)
	}
	if len(w.sim.Comments()) != 0 {
		t.Fatal("deleted comment still listed")
	}
}
