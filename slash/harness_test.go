package slash_test

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/slash"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
	"github.com/ethpandaops/dispatchoor/tools/ghsim/ghsimtest"
)

const (
	hookSecret = "slash-secret"
	publicURL  = "https://dispatchoor.example.com"
	repo       = "acme/infra"
	ourBot     = "dispatchoor[bot]"
)

// The world: org acme with repo acme/infra (commands allowed) and
// acme/private-stuff (not allowed), the App installed on acme; users with
// each role; groups sync and fast; templates in acme and one in another
// account.
var users = map[string]ghsim.Permission{
	"mia":   ghsim.PermMaintain,
	"wes":   ghsim.PermWrite,
	"tri":   ghsim.PermTriage,
	"rita":  ghsim.PermRead,
	"alice": ghsim.PermAdmin,
	"boss":  ghsim.PermRead, // mapped to admin in the config
}

var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(crand.Reader, 2048) })

type world struct {
	t     *testing.T
	sim   *ghsim.Sim
	store *store.Store
	queue *queue.Service
	svc   *slash.Service
	inst  int64
	// dupe makes the webhook receiver hand every comment to the service
	// twice, as a redelivery under a new delivery id would.
	dupe atomic.Bool
	// sent are the comments the tests made, as opposed to our replies.
	sent sync.Map
	// beforeReply, when set, runs just before a reply is created: a
	// stand-in for the dispatcher racing the reply.
	beforeReply atomic.Pointer[func()]
}

// hookedGitHub is the real client with a hook before CreateComment.
type hookedGitHub struct {
	*gh.Client
	w *world
}

func (h hookedGitHub) CreateComment(ctx context.Context, inst int64, owner, repo string, issue int, body string) (gh.Comment, error) {
	if f := h.w.beforeReply.Load(); f != nil {
		(*f)()
	}
	return h.Client.CreateComment(ctx, inst, owner, repo, issue, body)
}

type worldOptions struct {
	minPermission string
	disabled      bool
	prs           slash.PullRequests
	maxCommands   int
	// speed of the simulated clock; default 1000 (a simulated minute is
	// 60 ms of wall time).
	speed float64
}

// events fans the queue's notifications out to the slash service.
type events struct{ svc atomic.Pointer[slash.Service] }

func (e *events) JobCreated(core.Job) {}
func (e *events) JobChanged(j core.Job) {
	if s := e.svc.Load(); s != nil {
		s.JobChanged(j)
	}
}
func (e *events) QueueChanged(string) {}
func (e *events) GroupChanged(string) {}

func newWorld(t *testing.T, s *store.Store, opts worldOptions) *world {
	t.Helper()
	key, err := sharedKey()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, store: s}
	// 1000x: a paced second takes a millisecond of real time.
	if opts.speed == 0 {
		opts.speed = 1000
	}
	w.sim = ghsimtest.New(t, ghsim.Options{Seed: 3, PrivateKey: key, WebhookSecret: hookSecret, Speed: opts.speed, AppSlug: "dispatchoor"})
	for _, r := range []string{"infra", "private-stuff"} {
		if _, err := w.sim.AddRepo(ghsim.Repo{Owner: "acme", Name: r, Workflows: []*ghsim.Workflow{{File: "sync.yml"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if w.inst, err = w.sim.AddInstallation(ghsim.Installation{Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	for login, p := range users {
		w.sim.AddUser(ghsim.User{Login: login, Perms: map[string]ghsim.Permission{repo: p, "acme/private-stuff": p}})
	}
	groups := []core.Group{
		{ID: "sync", Name: "Sync", RunnerLabels: []string{"self-hosted", "sync"}, RunnerScope: "org:acme", Enabled: true},
		{ID: "fast", Name: "Fast", RunnerLabels: []string{"self-hosted", "fast"}, RunnerScope: "org:acme", Enabled: true},
	}
	tmpl := func(id, group, owner string) core.Template {
		return core.Template{ID: id, GroupID: group, Name: "Template " + id, Owner: owner, Repo: "infra",
			WorkflowID: "sync.yml", Ref: "main", Inputs: map[string]string{"network": "hoodi", "el": "geth"}}
	}
	templates := []core.Template{
		tmpl("sync-test", "sync", "acme"), tmpl("sync-fast", "fast", "acme"), tmpl("snap-test", "sync", "acme"),
		tmpl("block-sync", "sync", "acme"), tmpl("hive", "fast", "acme"), tmpl("sync-tests", "sync", "elsewhere"),
	}
	if _, err := s.SyncConfig(context.Background(), groups, templates); err != nil {
		t.Fatal(err)
	}
	client, err := gh.New(gh.Options{APIURL: w.sim.APIURL(), AppID: w.sim.AppID(), PrivateKey: w.sim.PrivateKeyPEM(),
		Retry: gh.RetryPolicy{BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	if w.queue, err = queue.New(queue.Options{Store: s, Events: ev}); err != nil {
		t.Fatal(err)
	}
	minPerm := opts.minPermission
	if minPerm == "" {
		minPerm = "write"
	}
	w.svc, err = slash.New(slash.Options{
		Config:          config.SlashCommands{Enabled: !opts.disabled, MinPermission: minPerm, Repos: []string{repo}},
		UserRoleMapping: map[string]string{"BOSS": "admin", "rita": "readonly"},
		PublicURL:       publicURL + "/",
		GitHub:          hookedGitHub{client, w}, Queue: w.queue, Store: s, PullRequests: opts.prs,
		Logger:      zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Clock:       w.sim.Clock(),
		MaxCommands: opts.maxCommands,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.svc.Close)
	ev.svc.Store(w.svc)
	hook := httptest.NewServer(http.HandlerFunc(w.receive))
	t.Cleanup(hook.Close)
	w.sim.SetWebhookURL(hook.URL)
	return w
}

// receive is the webhook endpoint, reduced to what handlers/issue_comment.go
// does: verify, decode, Submit.
func (w *world) receive(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if err := github.ValidateSignature(r.Header.Get(github.SHA256SignatureHeader), body, []byte(hookSecret)); err != nil {
		http.Error(rw, err.Error(), http.StatusUnauthorized)
		return
	}
	ev, err := github.ParseWebHook(r.Header.Get("X-GitHub-Event"), body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if ic, ok := ev.(*github.IssueCommentEvent); ok {
		w.svc.Submit(handlers.CommentFromEvent(ic))
		if w.dupe.Load() {
			w.svc.Submit(handlers.CommentFromEvent(ic))
		}
	}
	rw.WriteHeader(http.StatusOK)
}

// comment posts a comment as user and waits until everything it set off
// (the webhook, the paced writes) has happened.
func (w *world) comment(user, body string, opts ...func(*ghsim.IssueComment)) int64 {
	w.t.Helper()
	ev := ghsim.IssueComment{Repo: repo, Issue: 7, User: user, Body: body}
	for _, o := range opts {
		o(&ev)
	}
	id, err := w.sim.SendIssueComment(ev)
	if err != nil {
		w.t.Fatal(err)
	}
	w.sent.Store(id, true)
	w.settle()
	return id
}

func onPR(ev *ghsim.IssueComment) { ev.IsPR, ev.Issue = true, 12 }

func (w *world) settle() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.sim.WaitIdle(ctx); err != nil {
		w.t.Fatalf("webhooks did not settle: %v", err)
	}
	w.svc.Wait()
}

// reactions lists the App's reactions on a comment, in order.
func (w *world) reactions(commentID int64) []string {
	var out []string
	for _, r := range w.sim.Reactions() {
		if r.CommentID == commentID {
			out = append(out, r.Content)
		}
	}
	return out
}

// replies lists the App's comments (our replies), oldest first.
func (w *world) replies() []ghsim.Comment {
	var out []ghsim.Comment
	for _, c := range w.sim.Comments() {
		if _, sent := w.sent.Load(c.ID); c.User == ourBot && !sent {
			out = append(out, c)
		}
	}
	return out
}

func (w *world) onlyReply() ghsim.Comment {
	w.t.Helper()
	rs := w.replies()
	if len(rs) != 1 {
		w.t.Fatalf("want exactly one reply, got %d: %+v", len(rs), rs)
	}
	return rs[0]
}

func (w *world) jobs() []core.Job {
	w.t.Helper()
	all, err := w.store.ListJobsByStatus(context.Background(), core.AllStatuses...)
	if err != nil {
		w.t.Fatal(err)
	}
	return all
}

// writes are the REST writes (POST/PATCH) made with the installation's
// token: the requests the pacer spaces out.
func (w *world) writes() []ghsim.Request {
	return w.sim.Requests(func(r ghsim.Request) bool {
		return r.InstallationID == w.inst && (r.Method == http.MethodPost || r.Method == http.MethodPatch)
	})
}

func sqlite(t *testing.T) *store.Store { return storetest.SQLite(t) }

func (w *world) job(id int64) core.Job {
	w.t.Helper()
	j, err := w.store.GetJob(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return j
}
