package slash_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestMaintainerCommentQueuesDispatchesAndReportsJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s, worldOptions{})
		ctx := context.Background()
		cid := w.comment("mia", "Let's check this.\n/dispatch sync-test network=mainnet config='{\"a\":1}'\nThanks!")

		jobs := w.jobs()
		if len(jobs) != 1 {
			t.Fatalf("want one job, got %d", len(jobs))
		}
		j := jobs[0]
		if j.TemplateID != "sync-test" || j.GroupID != "sync" || j.Status != core.StatusPending {
			t.Errorf("job = %s in %s (%s), want sync-test in sync, pending", j.TemplateID, j.GroupID, j.Status)
		}
		wantInputs := map[string]string{"network": "mainnet", "el": "geth", "config": `{"a":1}`}
		if fmt.Sprint(j.Inputs) != fmt.Sprint(wantInputs) {
			t.Errorf("inputs = %v, want the comment's merged over the template's: %v", j.Inputs, wantInputs)
		}
		if j.Source != core.JobSourceComment || j.CreatedBy != "github:mia" ||
			!strings.HasSuffix(j.SourceURL, fmt.Sprintf("/acme/infra/issues/7#issuecomment-%d", cid)) {
			t.Errorf("origin = %s %s %s, want comment, github:mia and the comment's URL", j.Source, j.CreatedBy, j.SourceURL)
		}
		if got := w.reactions(cid); !slices.Equal(got, []string{"eyes"}) {
			t.Errorf("reactions after queueing = %v, want [eyes]", got)
		}
		reply := w.onlyReply()
		link := fmt.Sprintf("%s/groups/sync?job=%d", publicURL, j.ID)
		for _, want := range []string{"@mia", fmt.Sprintf("[#%d](%s)", j.ID, link), "group `sync`", "position 1 of 1", "⏳"} {
			if !strings.Contains(reply.Body, want) {
				t.Errorf("reply lacks %q:\n%s", want, reply.Body)
			}
		}

		claimed, err := w.queue.Claim(ctx, "sync", 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		w.settle()
		if got := w.onlyReply(); got.Body != reply.Body {
			t.Errorf("dispatching alone should not edit the reply:\n%s", got.Body)
		}
		runURL := "https://github.com/acme/infra/actions/runs/4242"
		if _, err := w.queue.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching,
			To: core.StatusTriggered, AttemptID: claimed[0].AttemptID, RunID: 4242, RunURL: runURL}); err != nil {
			t.Fatal(err)
		}
		w.settle()
		if got := w.reactions(cid); !slices.Equal(got, []string{"eyes", "rocket"}) {
			t.Errorf("reactions after dispatch = %v, want [eyes rocket]", got)
		}
		reply = w.onlyReply()
		if !strings.Contains(reply.Body, "🚀") || !strings.Contains(reply.Body, "[workflow run]("+runURL+")") {
			t.Errorf("reply after dispatch lacks 🚀 and the run link:\n%s", reply.Body)
		}

		if _, err := w.queue.Finish(ctx, j.ID, "success", "runner-1"); err != nil {
			t.Fatal(err)
		}
		w.settle()
		reply = w.onlyReply()
		if !strings.Contains(reply.Body, "✅") || !strings.Contains(reply.Body, "conclusion `success`") ||
			!strings.Contains(reply.Body, runURL) {
			t.Errorf("reply after completion lacks ✅ and the conclusion:\n%s", reply.Body)
		}
		if got := w.reactions(cid); !slices.Equal(got, []string{"eyes", "rocket"}) {
			t.Errorf("reactions after completion = %v, want [eyes rocket] (no more)", got)
		}
	})
}

func TestFailedRunEditsReplyWithCross(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	ctx := context.Background()
	w.comment("mia", "/dispatch hive")
	j := w.jobs()[0]
	claimed, err := w.queue.Claim(ctx, "fast", 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if _, err := w.queue.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: core.StatusDispatching,
		To: core.StatusTriggered, AttemptID: claimed[0].AttemptID, RunID: 77, RunURL: "https://github.com/acme/infra/actions/runs/77"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.queue.Finish(ctx, j.ID, "timed_out", "r"); err != nil {
		t.Fatal(err)
	}
	w.settle()
	body := w.onlyReply().Body
	if !strings.Contains(body, "❌") || !strings.Contains(body, "conclusion `timed_out`") {
		t.Errorf("reply after a failed run:\n%s", body)
	}
}

func TestCommentsThatQueueNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		// send makes the comment happen and returns the id of the comment
		// whose reactions to check.
		send          func(w *world) int64
		opts          worldOptions
		wantReactions []string
		wantReply     string // "" = no reply at all
	}{
		{
			name:          "read-only user is refused with a reason",
			send:          func(w *world) int64 { return w.comment("rita", "/dispatch sync-test") },
			wantReactions: []string{"confused"}, wantReply: "needs **write** permission on acme/infra",
		},
		{
			name:          "user mapped to a role other than admin gets nothing from it",
			send:          func(w *world) int64 { return w.comment("rita", "/dispatch hive") },
			wantReactions: []string{"confused"}, wantReply: "you have `read`",
		},
		{
			name: "a bot is ignored",
			send: func(w *world) int64 { return w.comment("renovate[bot]", "/dispatch sync-test") },
		},
		{
			name: "our own help reply never runs",
			send: func(w *world) int64 { return w.comment("dispatchoor[bot]", "@mia\n/dispatch sync-test") },
		},
		{
			name: "a quoted line is not a command",
			send: func(w *world) int64 { return w.comment("mia", "You wrote:\n> /dispatch sync-test\nno.") },
		},
		{
			name: "a code block is not a command",
			send: func(w *world) int64 { return w.comment("mia", "Use:\n```\n/dispatch sync-test\n```") },
		},
		{
			name: "an edited comment runs nothing",
			send: func(w *world) int64 {
				id := w.comment("mia", "typo")
				w.comment("mia", "/dispatch sync-test", func(ev *ghsim.IssueComment) { ev.Action, ev.CommentID, ev.Repo = "edited", id, "" })
				return id
			},
		},
		{
			name: "a repository outside slash_commands.repos is ignored",
			send: func(w *world) int64 {
				return w.comment("mia", "/dispatch sync-test", func(ev *ghsim.IssueComment) { ev.Repo = "acme/private-stuff" })
			},
		},
		{
			name: "disabled slash commands ignore everything",
			opts: worldOptions{disabled: true},
			send: func(w *world) int64 { return w.comment("alice", "/dispatch sync-test") },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, sqlite(t), tc.opts)
			cid := tc.send(w)
			if jobs := w.jobs(); len(jobs) != 0 {
				t.Errorf("queued %d jobs, want none", len(jobs))
			}
			if got := w.reactions(cid); !slices.Equal(got, tc.wantReactions) {
				t.Errorf("reactions = %v, want %v", got, tc.wantReactions)
			}
			replies := w.replies()
			switch {
			case tc.wantReply == "" && len(replies) != 0:
				t.Errorf("want no reply, got %q", replies[0].Body)
			case tc.wantReply != "" && (len(replies) != 1 || !strings.Contains(replies[0].Body, tc.wantReply)):
				t.Errorf("want one reply containing %q, got %+v", tc.wantReply, replies)
			}
		})
	}
}

func TestUnknownTemplateGetsTheThreeNearest(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	cid := w.comment("wes", "/dispatch sync-tst")
	if len(w.jobs()) != 0 {
		t.Fatal("an unknown template queued a job")
	}
	body := w.onlyReply().Body
	if !strings.Contains(body, "Did you mean `sync-test`, `sync-fast`, `snap-test`?") {
		t.Errorf("reply does not suggest the three nearest acme templates:\n%s", body)
	}
	if strings.Contains(body, "sync-tests") {
		t.Errorf("reply suggests another account's template:\n%s", body)
	}
	if got := w.reactions(cid); !slices.Equal(got, []string{"eyes", "confused"}) {
		t.Errorf("reactions = %v, want [eyes confused]", got)
	}
}

func TestManyCommandsInOneCommentAreAllHandled(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	body := strings.Join([]string{
		"/dispatch sync-test",
		"/dispatch hive el=nethermind",
		"/dispatch list",
		"/dispatch sync-test --requeue nope",
		"/dispatch status",
		"/dispatch help",
	}, "\n")
	cid := w.comment("mia", body)
	jobs := w.jobs()
	if len(jobs) != 2 {
		t.Fatalf("queued %d jobs, want 2", len(jobs))
	}
	reply := w.onlyReply().Body
	lines := []string{
		fmt.Sprintf("job [#%d]", jobs[0].ID),
		fmt.Sprintf("job [#%d]", jobs[1].ID),
		"Templates you can dispatch from acme/infra:",
		"line 4, column",
		"Your latest jobs:",
		"/dispatch <template-id> [key=value ...]",
	}
	last := -1
	for _, want := range lines {
		i := strings.Index(reply, want)
		if i < 0 || i < last {
			t.Errorf("reply lacks %q after the previous answer:\n%s", want, reply)
		}
		last = i
	}
	if got := w.reactions(cid); !slices.Equal(got, []string{"eyes", "confused"}) {
		t.Errorf("reactions = %v, want [eyes confused] (one line was unreadable)", got)
	}
}

func TestCommandsBeyondTheCapAreNotRun(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{maxCommands: 2})
	w.comment("mia", "/dispatch hive\n/dispatch hive\n/dispatch hive\n/dispatch hive")
	if n := len(w.jobs()); n != 2 {
		t.Errorf("queued %d jobs, want the cap of 2", n)
	}
	if body := w.onlyReply().Body; !strings.Contains(body, "Only the first 2 commands were run; the other 2 were ignored") {
		t.Errorf("reply lacks the cap note:\n%s", body)
	}
}

func TestDuplicateDeliveryQueuesOneJob(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	w.dupe.Store(true)
	cid := w.comment("mia", "/dispatch sync-test")
	if n := len(w.jobs()); n != 1 {
		t.Errorf("queued %d jobs for one comment delivered twice, want 1", n)
	}
	if n := len(w.replies()); n != 1 {
		t.Errorf("wrote %d replies, want 1", n)
	}
	if got := w.reactions(cid); !slices.Equal(got, []string{"eyes"}) {
		t.Errorf("reactions = %v, want [eyes]", got)
	}
}

func TestWritesPerInstallationAreAtLeastOneSecondApart(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	// Several comments at once, each wanting 👀, a reply and 😕: the
	// service handles them concurrently, the pacer serialises the writes.
	for i := range 4 {
		if _, err := w.sim.SendIssueComment(ghsim.IssueComment{Repo: repo, Issue: 7 + i, User: "mia",
			Body: "/dispatch hive\n/dispatch nope"}); err != nil {
			t.Fatal(err)
		}
	}
	w.settle()
	writes := w.writes()
	if len(writes) != 12 {
		t.Fatalf("want 12 writes (3 per comment), got %d: %v", len(writes), writes)
	}
	for i := 1; i < len(writes); i++ {
		if gap := writes[i].Time.Sub(writes[i-1].Time); gap < 1e9 {
			t.Errorf("writes %d and %d are %v apart, want at least 1s: %v then %v", i-1, i, gap, writes[i-1], writes[i])
		}
	}
}

func TestPermissionIsCachedBriefly(t *testing.T) {
	// At Speed 10 the 60 s TTL is 6 s of wall time: two comments posted back
	// to back fall within it even on a loaded machine (at the default speed
	// it was 60 ms, which a busy machine could outlast).
	w := newWorld(t, sqlite(t), worldOptions{speed: 10})
	lookups := func() int { return w.sim.CountRequests("GET", "/collaborators/wes/permission") }
	w.comment("wes", "/dispatch hive")
	w.comment("wes", "/dispatch hive")
	if n := lookups(); n != 1 {
		t.Errorf("two comments within the TTL made %d permission lookups, want 1", n)
	}
	if err := w.sim.SetPermission("wes", repo, ghsim.PermRead); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.Clock().Sleep(context.Background(), 61e9); err != nil {
		t.Fatal(err)
	}
	w.comment("wes", "/dispatch hive")
	if n := lookups(); n != 2 {
		t.Errorf("after the TTL: %d permission lookups, want 2", n)
	}
	if n := len(w.jobs()); n != 2 {
		t.Errorf("%d jobs, want 2: the revoked permission must refuse the third comment", n)
	}
}

func TestJobDispatchedBeforeItsReplyIsWrittenStillGetsRocketAndRunLink(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	ctx := context.Background()
	runURL := "https://github.com/acme/infra/actions/runs/9"
	fn := func() {
		w.beforeReply.Store(nil)
		claimed, err := w.queue.Claim(ctx, "fast", 1)
		if err != nil || len(claimed) != 1 {
			t.Errorf("claim: %v %v", claimed, err)
			return
		}
		if _, err := w.queue.Transition(ctx, store.TransitionRequest{JobID: claimed[0].ID, From: core.StatusDispatching,
			To: core.StatusTriggered, AttemptID: claimed[0].AttemptID, RunID: 9, RunURL: runURL}); err != nil {
			t.Error(err)
		}
	}
	w.beforeReply.Store(&fn)
	cid := w.comment("mia", "/dispatch hive")
	if body := w.onlyReply().Body; !strings.Contains(body, "🚀 Dispatched") || !strings.Contains(body, runURL) {
		t.Errorf("reply does not show the dispatch that happened while it was being written:\n%s", body)
	}
	if got := w.reactions(cid); !slices.Equal(got, []string{"eyes", "rocket"}) {
		t.Errorf("reactions = %v, want [eyes rocket]", got)
	}
}
