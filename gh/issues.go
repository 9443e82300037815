package gh

import (
	"context"
	"net/http"
	"slices"

	"github.com/google/go-github/v89/github"
)

const (
	epCreateComment = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
	epEditComment   = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
	epReaction      = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
	epPermission    = "/repos/{owner}/{repo}/collaborators/{username}/permission"
)

// Comment is an issue or pull-request comment we wrote.
type Comment struct {
	ID      int64
	HTMLURL string
}

// CreateComment comments on an issue or pull request (GitHub numbers both
// alike).
func (c *Client) CreateComment(ctx context.Context, installationID int64, owner, repo string, issue int, body string) (Comment, error) {
	ep := endpoint(http.MethodPost, epCreateComment)
	if err := checkNames(ep, owner, repo); err != nil {
		return Comment{}, err
	}
	if issue <= 0 || body == "" {
		return Comment{}, invalid(ep, "issue number %d and a non-empty body are required", issue)
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return Comment{}, err
	}
	cm, _, err := client.Issues.CreateComment(ctx, owner, repo, issue, &github.IssueComment{Body: github.Ptr(body)})
	if err != nil {
		return Comment{}, wrapf(classify(err, ep, false, c.now()), "comment on %s/%s#%d", owner, repo, issue)
	}
	return Comment{ID: cm.GetID(), HTMLURL: cm.GetHTMLURL()}, nil
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, installationID int64, owner, repo string, commentID int64, body string) error {
	ep := endpoint(http.MethodPatch, epEditComment)
	if err := checkNames(ep, owner, repo); err != nil {
		return err
	}
	if commentID <= 0 || body == "" {
		return invalid(ep, "comment id %d and a non-empty body are required", commentID)
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return err
	}
	if _, _, err := client.Issues.EditComment(ctx, owner, repo, commentID, &github.IssueComment{Body: github.Ptr(body)}); err != nil {
		// Writing the same body twice is harmless: idempotent.
		return wrapf(classify(err, ep, true, c.now()), "edit comment %d on %s/%s", commentID, owner, repo)
	}
	return nil
}

// Reactions GitHub accepts on comments.
var reactions = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

// AddReaction reacts to an issue or pull-request comment. content is one of
// +1, -1, laugh, confused, heart, hooray, rocket, eyes. Reacting twice with
// the same content is harmless (GitHub answers 200 with the existing one).
func (c *Client) AddReaction(ctx context.Context, installationID int64, owner, repo string, commentID int64, content string) error {
	ep := endpoint(http.MethodPost, epReaction)
	if err := checkNames(ep, owner, repo); err != nil {
		return err
	}
	if !slices.Contains(reactions, content) {
		return invalid(ep, "reaction %q is not one of %v", content, reactions)
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return err
	}
	if _, _, err := client.Reactions.CreateIssueCommentReaction(ctx, owner, repo, commentID, content); err != nil {
		return wrapf(classify(err, ep, true, c.now()), "react %s to comment %d on %s/%s", content, commentID, owner, repo)
	}
	return nil
}

// CollaboratorPermission is user's role on owner/repo: admin, maintain,
// write, triage, read or none (or a custom role's name). Older servers
// without role_name give the legacy permission (admin, write, read, none).
func (c *Client) CollaboratorPermission(ctx context.Context, installationID int64, owner, repo, user string) (string, error) {
	ep := endpoint(http.MethodGet, epPermission)
	if err := checkNames(ep, owner, repo, user); err != nil {
		return "", err
	}
	ctx, client, err := c.installation(ctx, installationID, ep)
	if err != nil {
		return "", err
	}
	p, _, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, user)
	if err != nil {
		return "", wrapf(classify(err, ep, true, c.now()), "read %s's permission on %s/%s", user, owner, repo)
	}
	if role := p.GetRoleName(); role != "" {
		return role, nil
	}
	return p.GetPermission(), nil
}
