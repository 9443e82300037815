package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/ethpandaops/dispatchoor/command"
	"github.com/ethpandaops/dispatchoor/store"
)

// CommentHandler runs /dispatch slash-commands; *slash.Service implements
// it (handlers never imports package slash: cmd passes the service in). Submit must return at once: the replies are paced a second apart,
// far longer than a webhook may take to answer.
type CommentHandler interface {
	// Relevant reports, without I/O, whether a comment can hold commands
	// at all (created, not by a bot, in an allowed repository, mentions
	// /dispatch), and why not.
	Relevant(c command.Comment) (bool, string)
	Submit(c command.Comment)
}

// CommentFromEvent reads a command.Comment out of an issue_comment webhook.
func CommentFromEvent(ev *github.IssueCommentEvent) command.Comment {
	c := command.Comment{
		InstallationID: ev.GetInstallation().GetID(),
		Action:         ev.GetAction(),
		Owner:          ev.GetRepo().GetOwner().GetLogin(),
		Repo:           ev.GetRepo().GetName(),
		Issue:          ev.GetIssue().GetNumber(),
		// Only pull requests carry issue.pull_request (URLs, no branch).
		IsPullRequest: ev.GetIssue().IsPullRequest(),
		CommentID:     ev.GetComment().GetID(),
		HTMLURL:       ev.GetComment().GetHTMLURL(),
		Body:          ev.GetComment().GetBody(),
		Author:        ev.GetComment().GetUser().GetLogin(),
		AuthorType:    ev.GetComment().GetUser().GetType(),
	}
	if c.Owner == "" || c.Repo == "" {
		if owner, repo, ok := strings.Cut(ev.GetRepo().GetFullName(), "/"); ok {
			c.Owner, c.Repo = owner, repo
		}
	}
	return c
}

// IssueComment hands /dispatch comments on issues and pull requests to the
// slash-command service. All decisions live in the slash-command service; this only
// decodes, deduplicates by delivery and submits.
type IssueComment struct {
	*base
	slash CommentHandler
}

// newIssueComment builds the issue_comment handler on a base. New registers
// it when Options carries a CommentHandler.
func newIssueComment(b *base, c CommentHandler) *IssueComment {
	return &IssueComment{base: b, slash: c}
}

// Handles implements githubapp.EventHandler.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle implements githubapp.EventHandler.
func (h *IssueComment) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.IssueCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badPayload("decode issue_comment: %v", err)
	}
	c := CommentFromEvent(&ev)
	log := h.logger(ctx, c.InstallationID).With().Str("action", c.Action).
		Str("repo", c.Owner+"/"+c.Repo).Int64("comment", c.CommentID).Logger()
	// Most comments are conversation, edits or bots: acknowledge them
	// without touching the database. Edits are never run (see
	// the slash-command service's Relevant for why).
	if ok, why := h.slash.Relevant(c); !ok {
		log.Debug().Str("reason", why).Msg("comment ignored")
		return nil
	}
	// Record the delivery first and run the commands only after that
	// committed: a redelivery of the same delivery then runs nothing. If the
	// process dies in between, the comment goes unanswered: at most once,
	// because queueing a job twice is worse than asking for a new comment.
	fresh, err := h.apply(ctx, deliveryID, eventType, c.Action, func(*store.Q, *effects) error { return nil })
	if err != nil {
		return fmt.Errorf("record issue_comment %d on %s/%s: %w", c.CommentID, c.Owner, c.Repo, err)
	}
	if fresh {
		h.slash.Submit(c)
		log.Info().Str("author", c.Author).Msg("slash-command comment submitted")
	}
	return nil
}

var _ githubapp.EventHandler = (*IssueComment)(nil)
