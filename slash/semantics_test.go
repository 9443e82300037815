package slash_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/command"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/slash"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// fakePRs answers pull request heads from a map "owner/repo#n".
type fakePRs map[string]slash.PullHead

func (f fakePRs) PullRequestHead(_ context.Context, _ int64, owner, repo string, n int) (slash.PullHead, error) {
	h, ok := f[fmt.Sprintf("%s/%s#%d", owner, repo, n)]
	if !ok {
		return slash.PullHead{}, errors.New("no such pull request")
	}
	return h, nil
}

func TestDispatchFlags(t *testing.T) {
	prs := fakePRs{"acme/infra#12": {Owner: "acme", Repo: "infra", Ref: "feature/x"}}
	for _, tc := range []struct {
		name    string
		user    string
		body    string
		opts    worldOptions
		onPR    bool
		check   func(t *testing.T, j core.Job)
		refusal string // non-empty: nothing queued, the reply says this
	}{
		{name: "--group naming the template's own group queues there", user: "mia", body: "/dispatch hive --group fast",
			check: func(t *testing.T, j core.Job) {
				if j.GroupID != "fast" {
					t.Errorf("group = %s, want fast", j.GroupID)
				}
			}},
		{name: "--group naming another group is refused", user: "mia", body: "/dispatch hive --group sync",
			refusal: "template `hive` belongs to group `fast`, not `sync`"},
		{name: "--requeue N sets auto-requeue with limit N", user: "mia", body: "/dispatch hive --requeue 3",
			check: func(t *testing.T, j core.Job) {
				if !j.AutoRequeue || j.RequeueLimit != 3 {
					t.Errorf("auto_requeue=%v limit=%d, want true 3", j.AutoRequeue, j.RequeueLimit)
				}
			}},
		{name: "--requeue 0 means no limit", user: "mia", body: "/dispatch hive --requeue 0",
			check: func(t *testing.T, j core.Job) {
				if !j.AutoRequeue || j.RequeueLimit != 0 {
					t.Errorf("auto_requeue=%v limit=%d, want true 0", j.AutoRequeue, j.RequeueLimit)
				}
			}},
		{name: "no --requeue leaves auto-requeue off", user: "mia", body: "/dispatch hive",
			check: func(t *testing.T, j core.Job) {
				if j.AutoRequeue {
					t.Error("auto_requeue is on without --requeue")
				}
			}},
		{name: "--ref overrides the template's ref", user: "mia", body: "/dispatch hive --ref v1.2.3",
			check: func(t *testing.T, j core.Job) {
				if j.Ref != "v1.2.3" {
					t.Errorf("ref = %s, want v1.2.3", j.Ref)
				}
			}},
		{name: "--ref pr on a pull request is its head branch", user: "mia", body: "/dispatch hive --ref pr",
			onPR: true, opts: worldOptions{prs: prs},
			check: func(t *testing.T, j core.Job) {
				if j.Ref != "feature/x" {
					t.Errorf("ref = %s, want the PR's head feature/x", j.Ref)
				}
			}},
		{name: "--ref pr on an issue is refused", user: "mia", body: "/dispatch hive --ref pr", opts: worldOptions{prs: prs},
			refusal: "only works in a pull request's comments"},
		{name: "--ref pr from a fork is refused", user: "mia", body: "/dispatch hive --ref pr", onPR: true,
			opts:    worldOptions{prs: fakePRs{"acme/infra#12": {Owner: "forker", Repo: "infra", Ref: "main"}}},
			refusal: "branch lives in forker/infra"},
		{name: "--ref pr without a pull request reader is refused", user: "mia", body: "/dispatch hive --ref pr", onPR: true,
			refusal: "cannot be resolved by this server"},
		{name: "--top by a triager is refused even where triage may dispatch", user: "tri", body: "/dispatch hive --top",
			opts: worldOptions{minPermission: "triage"}, refusal: "`--top` needs write permission"},
		{name: "a triager may dispatch where min_permission is triage", user: "tri", body: "/dispatch hive",
			opts: worldOptions{minPermission: "triage"},
			check: func(t *testing.T, j core.Job) {
				if j.CreatedBy != "github:tri" {
					t.Errorf("created_by = %s", j.CreatedBy)
				}
			}},
		{name: "a user mapped to admin may dispatch without repository permission", user: "boss", body: "/dispatch hive --top",
			check: func(t *testing.T, j core.Job) {
				if j.CreatedBy != "github:boss" {
					t.Errorf("created_by = %s", j.CreatedBy)
				}
			}},
		{name: "another account's template is unknown here", user: "alice", body: "/dispatch sync-tests",
			refusal: "there is no template `sync-tests` for acme/infra"},
		{name: "an unreadable flag is refused with its position", user: "mia", body: "/dispatch hive --ref ''",
			refusal: "line 1, column 16: --ref needs a non-empty value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, sqlite(t), tc.opts)
			var opts []func(*ghsim.IssueComment)
			if tc.onPR {
				opts = append(opts, onPR)
			}
			cid := w.comment(tc.user, tc.body, opts...)
			jobs := w.jobs()
			if tc.refusal != "" {
				if len(jobs) != 0 {
					t.Errorf("queued %d jobs, want none", len(jobs))
				}
				if body := w.onlyReply().Body; !strings.Contains(body, tc.refusal) {
					t.Errorf("reply lacks %q:\n%s", tc.refusal, body)
				}
				if got := w.reactions(cid); !slices.Contains(got, "confused") {
					t.Errorf("reactions = %v, want confused among them", got)
				}
				return
			}
			if len(jobs) != 1 {
				t.Fatalf("queued %d jobs, want 1; reply: %+v", len(jobs), w.replies())
			}
			tc.check(t, jobs[0])
		})
	}
}

func TestTopPutsTheJobFirst(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	w.comment("mia", "/dispatch hive\n/dispatch hive")
	w.comment("wes", "/dispatch hive --top")
	replies := w.replies()
	if len(replies) != 2 {
		t.Fatalf("want 2 replies, got %d", len(replies))
	}
	if !strings.Contains(replies[0].Body, "position 2 of 2") {
		t.Errorf("second job of the first comment should be 2 of 2:\n%s", replies[0].Body)
	}
	if !strings.Contains(replies[1].Body, "position 1 of 3") {
		t.Errorf("--top job should be 1 of 3:\n%s", replies[1].Body)
	}
}

func TestCancel(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	w.comment("mia", "/dispatch hive")
	job := w.jobs()[0]
	first := w.replies()[0].ID
	cancel := fmt.Sprintf("/dispatch cancel %d", job.ID)

	w.comment("wes", cancel)
	if got := w.job(job.ID).Status; got != core.StatusPending {
		t.Fatalf("a writer who did not queue it cancelled it: %s", got)
	}
	if body := w.replies()[1].Body; !strings.Contains(body, "only whoever queued job") {
		t.Errorf("refusal does not say who may cancel:\n%s", body)
	}

	w.comment("boss", cancel) // mapped admin
	if got := w.job(job.ID).Status; got != core.StatusCancelled {
		t.Fatalf("mapped admin's cancel: status %s, want cancelled", got)
	}
	if body := w.replies()[2].Body; !strings.Contains(body, fmt.Sprintf("Withdrew job [#%d]", job.ID)) {
		t.Errorf("cancel reply:\n%s", body)
	}
	for _, r := range w.replies() {
		if r.ID == first && !strings.Contains(r.Body, "🚫 Cancelled") {
			t.Errorf("the reply that announced the job was not edited to 🚫:\n%s", r.Body)
		}
	}

	w.comment("mia", cancel)
	if body := w.replies()[3].Body; !strings.Contains(body, "already ended (cancelled)") {
		t.Errorf("second cancel:\n%s", body)
	}
}

func TestCreatorMayCancelOwnJob(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	w.comment("wes", "/dispatch hive")
	job := w.jobs()[0]
	w.comment("wes", fmt.Sprintf("/dispatch cancel #%d", job.ID))
	if got := w.job(job.ID).Status; got != core.StatusCancelled {
		t.Errorf("creator's cancel: status %s, want cancelled", got)
	}
}

func TestStatusListAndHelp(t *testing.T) {
	w := newWorld(t, sqlite(t), worldOptions{})
	w.comment("mia", "/dispatch hive\n/dispatch sync-test")
	jobs := w.jobs()
	w.comment("wes", "/dispatch hive")
	w.comment("mia", fmt.Sprintf("/dispatch status %d\n/dispatch status 999999\n/dispatch status\n/dispatch list\n/dispatch help", jobs[1].ID))
	body := w.replies()[2].Body

	for _, want := range []string{
		fmt.Sprintf("⏳ Queued job [#%d]", jobs[1].ID), "position 1 of 1",
		"there is no job #999999",
		"Your latest jobs:",
		"`sync-test` — Template sync-test", "`hive` — Template hive",
		command.Help(),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("reply lacks %q:\n%s", want, body)
		}
	}
	latest := body[strings.Index(body, "Your latest jobs:"):strings.Index(body, "Templates you can")]
	if strings.Count(latest, "⏳ Queued") != 2 {
		t.Errorf("latest jobs should list mia's two jobs only:\n%s", latest)
	}
	if strings.Contains(body, "sync-tests") {
		t.Errorf("list shows another account's template:\n%s", body)
	}
}
