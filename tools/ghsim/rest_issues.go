package ghsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

type commentRequest struct {
	Body *string `json:"body"`
}

func (c *call) createComment() {
	const doc = "/issues/comments#create-an-issue-comment"
	var req commentRequest
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	n, _ := strconv.Atoi(c.r.PathValue("issue_number"))
	if s.issues[issueKey(repo.FullName(), n)] == nil {
		c.fail(http.StatusNotFound, "Not Found", doc)
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.json(http.StatusUnprocessableEntity, validationFailed("IssueComment", "body", "missing_field", doc))
		return
	}
	now := s.clock.Now()
	cm := &Comment{ID: s.newID(), Repo: repo.FullName(), Issue: n, User: s.apps[c.ins.AppID].Slug + "[bot]",
		Body: *req.Body, CreatedAt: now, UpdatedAt: now}
	s.comments[cm.ID] = cm
	c.w.Header().Set("Location", s.api("/repos/%s/issues/comments/%d", cm.Repo, cm.ID))
	c.json(http.StatusCreated, s.commentJSON(cm))
}

func (c *call) comment(repo *Repo, doc string) *Comment {
	id, _ := strconv.ParseInt(c.r.PathValue("comment_id"), 10, 64)
	cm := c.s.comments[id]
	if cm == nil || !strings.EqualFold(cm.Repo, repo.FullName()) {
		c.fail(http.StatusNotFound, "Not Found", doc)
		return nil
	}
	return cm
}

func (c *call) updateComment() {
	const doc = "/issues/comments#update-an-issue-comment"
	var req commentRequest
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	cm := c.comment(repo, doc)
	if cm == nil {
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.json(http.StatusUnprocessableEntity, validationFailed("IssueComment", "body", "missing_field", doc))
		return
	}
	if cm.User != s.apps[c.ins.AppID].Slug+"[bot]" {
		// An App can only edit its own comments unless it has admin rights.
		c.fail(http.StatusForbidden, "Resource not accessible by integration", doc)
		return
	}
	cm.Body, cm.UpdatedAt = *req.Body, s.clock.Now()
	c.json(http.StatusOK, s.commentJSON(cm))
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

// createReaction answers 201 for a new reaction and 200 with the existing
// one when this user already reacted with that content, as GitHub does.
func (c *call) createReaction() {
	const doc = "/reactions/reactions#create-reaction-for-an-issue-comment"
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	cm := c.comment(repo, doc)
	if cm == nil {
		return
	}
	if !slices.Contains(reactionContents, req.Content) {
		c.json(http.StatusUnprocessableEntity, validationFailed("Reaction", "content", "invalid", doc))
		return
	}
	user := s.apps[c.ins.AppID].Slug + "[bot]"
	for _, r := range s.reactions {
		if r.CommentID == cm.ID && r.User == user && r.Content == req.Content {
			c.json(http.StatusOK, s.reactionJSON(r))
			return
		}
	}
	r := &Reaction{ID: s.newID(), CommentID: cm.ID, User: user, Content: req.Content, CreatedAt: s.clock.Now()}
	s.reactions = append(s.reactions, r)
	c.json(http.StatusCreated, s.reactionJSON(r))
}

func (s *Sim) reactionJSON(r *Reaction) obj {
	return obj{"id": r.ID, "node_id": nodeID("Reaction", r.ID), "user": s.accountJSON(r.User),
		"content": r.Content, "created_at": ts(r.CreatedAt)}
}

func validationFailed(resource, field, code, doc string) obj {
	o := errorBody(http.StatusUnprocessableEntity, "Validation Failed", doc)
	o["errors"] = []obj{{"resource": resource, "field": field, "code": code}}
	return o
}

// collaboratorPermission answers for users known to the simulator; an
// unknown login is a 404, as on GitHub ("is not a user").
func (c *call) collaboratorPermission() {
	const doc = "/collaborators/collaborators#get-repository-permissions-for-a-user"
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	login := c.r.PathValue("username")
	u := s.users[strings.ToLower(login)]
	if u == nil {
		c.fail(http.StatusNotFound, login+" is not a user", doc)
		return
	}
	p := u.Perms[strings.ToLower(repo.FullName())]
	if p == "" {
		p = PermNone
		if !repo.Private {
			p = PermRead
		}
	}
	user := s.accountJSON(u.Login)
	user["permissions"] = obj{
		"admin": p == PermAdmin, "maintain": p == PermAdmin || p == PermMaintain,
		"push":   p == PermAdmin || p == PermMaintain || p == PermWrite,
		"triage": p != PermNone && p != PermRead, "pull": p != PermNone,
	}
	user["role_name"] = string(p)
	c.json(http.StatusOK, obj{"permission": p.legacy(), "role_name": string(p), "user": user})
}
