package slash

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/clock"
	"github.com/ethpandaops/dispatchoor/command"
	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// GitHub is what slash asks of GitHub; *gh.Client implements it.
type GitHub interface {
	CreateComment(ctx context.Context, installationID int64, owner, repo string, issue int, body string) (gh.Comment, error)
	EditComment(ctx context.Context, installationID int64, owner, repo string, commentID int64, body string) error
	AddReaction(ctx context.Context, installationID int64, owner, repo string, commentID int64, content string) error
	// CollaboratorPermission is the user's role on the repository (admin,
	// maintain, write, triage, read, none or a custom role's name).
	CollaboratorPermission(ctx context.Context, installationID int64, owner, repo, user string) (string, error)
}

// PullHead is where a pull request's head branch lives.
type PullHead struct {
	Owner, Repo string
	Ref         string
}

// PullRequests resolves a pull request's head. The issue_comment payload
// only carries the pull request's URLs (issue.pull_request), never its
// branch, so `--ref pr` needs GET /repos/{owner}/{repo}/pulls/{number}.
type PullRequests interface {
	PullRequestHead(ctx context.Context, installationID int64, owner, repo string, number int) (PullHead, error)
}

// Queue is the part of *queue.Service that commands use.
type Queue interface {
	Enqueue(ctx context.Context, req queue.EnqueueRequest) (core.Job, error)
	Cancel(ctx context.Context, jobID int64, actor string) (core.Job, error)
	Queue(ctx context.Context, q store.QueueQuery) (store.JobPage, error)
}

// Options configure a Service. GitHub, Queue and Store are required.
type Options struct {
	Config config.SlashCommands
	// UserRoleMapping is auth.github.user_role_mapping: a login mapped to
	// admin may run commands whatever its repository permission.
	UserRoleMapping map[string]string
	// PublicURL is the dashboard's base, for links in replies.
	PublicURL string

	GitHub GitHub
	Queue  Queue
	Store  *store.Store
	// PullRequests resolves `--ref pr`; nil refuses it with a reason.
	PullRequests PullRequests

	Logger zerolog.Logger
	// Clock defaults to the wall clock.
	Clock Clock
	// WriteInterval is the least time between two comment writes of one
	// installation; default 1s.
	WriteInterval time.Duration
	// PermissionTTL is how long an author's permission is believed;
	// default 1m. Short, so a revoked collaborator is refused soon.
	PermissionTTL time.Duration
	// MaxCommands caps the commands run from one comment; default 10.
	MaxCommands int
}

// Service runs slash-commands. Safe for concurrent use; Close stops the
// background work that Submit and JobChanged start.
type Service struct {
	opts  Options
	log   zerolog.Logger
	clock Clock
	pace  *pacer
	perms *permCache
	track *tracker
	seen  *seenComments

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

// New validates o and builds a Service.
func New(opts Options) (*Service, error) {
	switch {
	case opts.GitHub == nil:
		return nil, errors.New("slash: a GitHub client is required")
	case opts.Queue == nil:
		return nil, errors.New("slash: a queue service is required")
	case opts.Store == nil:
		return nil, errors.New("slash: a store is required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.WriteInterval <= 0 {
		opts.WriteInterval = time.Second
	}
	if opts.PermissionTTL <= 0 {
		opts.PermissionTTL = time.Minute
	}
	if opts.MaxCommands <= 0 {
		opts.MaxCommands = 10
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		opts: opts, log: opts.Logger.With().Str("component", "slash").Logger(), clock: opts.Clock,
		pace: newPacer(opts.Clock, opts.WriteInterval), perms: newPermCache(opts.Clock, opts.PermissionTTL),
		track: newTracker(), seen: newSeenComments(opts.Clock, 24*time.Hour),
		ctx: ctx, cancel: cancel,
	}, nil
}

// Comment is one issue_comment event, reduced to what commands need. It is
// declared in package command so the webhook handlers can decode one
// without importing this package.
type Comment = command.Comment

// Result says what became of a comment.
type Result struct {
	// Ignored, when set, says why the comment ran nothing and got no
	// answer at all.
	Ignored string
	// Jobs are the ids of the jobs it queued.
	Jobs []int64
	// ReplyID is our reply comment's id (0: none written).
	ReplyID int64
	// Refused is true when anything was refused or unreadable (😕).
	Refused bool
}

// Ignore reasons.
const (
	IgnoredDisabled   = "slash commands are disabled"
	IgnoredAction     = "not a created comment"
	IgnoredBot        = "written by a bot"
	IgnoredRepo       = "repository not allowed"
	IgnoredNoCommand  = "no /dispatch command"
	IgnoredDuplicate  = "comment handled before"
	IgnoredIncomplete = "payload lacks ids"
)

// Relevant reports whether c can hold commands at all, without any I/O; the
// webhook handler uses it to acknowledge everything else at once.
func (s *Service) Relevant(c Comment) (bool, string) {
	switch {
	case !s.opts.Config.Enabled:
		return false, IgnoredDisabled
	// Only new comments run. Re-running an edited comment would dispatch
	// its commands a second time, and GitHub sends no diff of what the edit
	// changed (changes.body.from is the whole old body), so "run only the
	// new lines" would be guesswork. Deleted comments have nothing to run.
	case c.Action != "created":
		return false, IgnoredAction
	// Bots never command us, and our own replies (which quote the grammar
	// in `help`) must never run.
	case strings.EqualFold(c.AuthorType, "Bot") || strings.HasSuffix(strings.ToLower(c.Author), "[bot]"):
		return false, IgnoredBot
	case c.InstallationID <= 0 || c.CommentID <= 0 || c.Issue <= 0 || c.Owner == "" || c.Repo == "" || c.Author == "":
		return false, IgnoredIncomplete
	case !s.opts.Config.AllowsRepo(c.Owner, c.Repo):
		return false, IgnoredRepo
	case !strings.Contains(c.Body, "/dispatch"):
		return false, IgnoredNoCommand
	}
	return true, ""
}

// Submit handles c in the background and returns at once: the writes are
// paced a second apart, far longer than a webhook may take to answer.
func (s *Service) Submit(c Comment) {
	if ok, _ := s.Relevant(c); !ok {
		return
	}
	s.goBackground(func(ctx context.Context) {
		if _, err := s.Handle(ctx, c); err != nil {
			s.log.Error().Err(err).Int64("installation", c.InstallationID).Int64("comment", c.CommentID).
				Str("repo", c.Owner+"/"+c.Repo).Msg("slash command failed")
		}
	})
}

// goBackground runs fn on the service's context unless it was closed.
func (s *Service) goBackground(fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// Wait blocks until the background work started so far has finished.
func (s *Service) Wait() { s.wg.Wait() }

// Close stops background work (pending paced writes are abandoned) and
// waits for it to return.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// write runs one paced GitHub write for c's installation.
func (s *Service) write(ctx context.Context, inst int64, what string, fn func(ctx context.Context) error) error {
	err := s.pace.do(ctx, inst, func(ctx context.Context) (bool, error) { return true, fn(ctx) })
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (s *Service) react(ctx context.Context, c Comment, content string) error {
	return s.write(ctx, c.InstallationID, "react "+content, func(ctx context.Context) error {
		return s.opts.GitHub.AddReaction(ctx, c.InstallationID, c.Owner, c.Repo, c.CommentID, content)
	})
}

// seenComments remembers recently handled comment ids, so a comment that
// reaches us twice (a redelivery under a new delivery id, two replicas, a
// caller outside the delivery transaction) runs once per process. The
// durable guard is the webhook handler's delivery record.
type seenComments struct {
	clock Clock
	ttl   time.Duration
	mu    sync.Mutex
	at    map[int64]time.Time
}

func newSeenComments(c Clock, ttl time.Duration) *seenComments {
	return &seenComments{clock: c, ttl: ttl, at: map[int64]time.Time{}}
}

// first records id and reports whether it was new.
func (g *seenComments) first(id int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	if t, ok := g.at[id]; ok && now.Sub(t) < g.ttl {
		return false
	}
	if len(g.at) > 10_000 {
		for k, t := range g.at {
			if now.Sub(t) >= g.ttl {
				delete(g.at, k)
			}
		}
	}
	g.at[id] = now
	return true
}
