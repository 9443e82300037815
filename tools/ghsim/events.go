package ghsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// IssueComment describes an issue_comment webhook to send.
type IssueComment struct {
	Action string // "created" (default), "edited" or "deleted"
	Repo   string // owner/name
	Issue  int    // created with AddIssue semantics when unknown
	IsPR   bool   // the issue is a pull request
	User   string // commenter
	Body   string
	// CommentID selects the comment to edit or delete.
	CommentID int64
}

// SendIssueComment makes a user's comment happen (or change, or vanish) and
// sends the issue_comment webhook. It returns the comment id.
func (s *Sim) SendIssueComment(ev IssueComment) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Action == "" {
		ev.Action = "created"
	}
	if old := s.comments[ev.CommentID]; ev.Action != "created" && old != nil && ev.Repo == "" {
		ev.Repo, ev.Issue = old.Repo, old.Issue
	}
	repo := s.repos[strings.ToLower(ev.Repo)]
	if repo == nil {
		return 0, fmt.Errorf("ghsim: issue_comment: no repo %q", ev.Repo)
	}
	in := s.installationFor(s.primaryApp, repo)
	if in == nil {
		return 0, fmt.Errorf("ghsim: issue_comment: app not installed on %s", ev.Repo)
	}
	key := issueKey(repo.FullName(), ev.Issue)
	is := s.issues[key]
	if is == nil {
		var head *PullHead
		if ev.IsPR {
			head = &PullHead{}
		}
		is = s.newIssue(repo, ev.Issue, fmt.Sprintf("Issue %d", ev.Issue), ev.User, head)
		s.issues[key] = is
	}
	now := s.clock.Now()
	body := obj{}
	var cm *Comment
	switch ev.Action {
	case "created":
		cm = &Comment{ID: s.newID(), Repo: repo.FullName(), Issue: ev.Issue, User: ev.User, Body: ev.Body, CreatedAt: now, UpdatedAt: now}
		s.comments[cm.ID] = cm
	case "edited", "deleted":
		cm = s.comments[ev.CommentID]
		if cm == nil {
			return 0, fmt.Errorf("ghsim: issue_comment %s: no comment %d", ev.Action, ev.CommentID)
		}
		if ev.Action == "edited" {
			body["changes"] = obj{"body": obj{"from": cm.Body}}
			cm.Body, cm.UpdatedAt = ev.Body, now
		} else {
			delete(s.comments, cm.ID)
		}
	default:
		return 0, fmt.Errorf("ghsim: issue_comment: unknown action %q", ev.Action)
	}
	body["issue"] = s.issueJSON(is)
	body["comment"] = s.commentJSON(cm)
	sender := ev.User
	if ev.Action != "created" && sender == "" {
		sender = cm.User
	}
	s.emit("issue_comment", ev.Action, in.ID, repo, sender, body)
	return cm.ID, nil
}

// SendInstallation sends an installation webhook (created, deleted, suspend,
// unsuspend, new_permissions_accepted) and applies it to the world: deleted
// removes the installation, suspend/unsuspend toggle it.
func (s *Sim) SendInstallation(action string, installationID int64, sender string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.installations[installationID]
	if in == nil {
		return fmt.Errorf("ghsim: installation %s: no installation %d", action, installationID)
	}
	switch action {
	case "suspend":
		in.Suspended = true
	case "unsuspend":
		in.Suspended = false
	case "created", "deleted", "new_permissions_accepted":
	default:
		return fmt.Errorf("ghsim: installation: unknown action %q", action)
	}
	body := obj{"installation": s.installationJSON(in)}
	if action == "created" {
		body["repositories"] = s.repoRefs(s.installationRepos(in))
	}
	if sender == "" {
		sender = "octocat"
	}
	// The installation event carries the full installation object, not the
	// {id,node_id} stub, so it is emitted without the stub.
	s.emitInstallation("installation", action, in, sender, body)
	if action == "deleted" {
		delete(s.installations, installationID)
	}
	return nil
}

// SendInstallationRepositories changes an installation's repository
// selection and sends installation_repositories added/removed.
func (s *Sim) SendInstallationRepositories(installationID int64, added, removed []string, sender string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.installations[installationID]
	if in == nil {
		return fmt.Errorf("ghsim: installation_repositories: no installation %d", installationID)
	}
	if len(added) > 0 == (len(removed) > 0) {
		return fmt.Errorf("ghsim: installation_repositories: give repos to add or to remove (GitHub sends one action per event)")
	}
	var addRepos, rmRepos []*Repo
	for _, n := range added {
		r := s.repos[strings.ToLower(n)]
		if r == nil {
			return fmt.Errorf("ghsim: installation_repositories: no repo %q", n)
		}
		addRepos = append(addRepos, r)
	}
	for _, n := range removed {
		r := s.repos[strings.ToLower(n)]
		if r == nil {
			return fmt.Errorf("ghsim: installation_repositories: no repo %q", n)
		}
		rmRepos = append(rmRepos, r)
	}
	if in.Repos == nil {
		// From "all" to an explicit selection: start from everything.
		for _, r := range s.installationRepos(in) {
			in.Repos = append(in.Repos, r.FullName())
		}
	}
	for _, r := range addRepos {
		if !slices.Contains(in.Repos, r.FullName()) {
			in.Repos = append(in.Repos, r.FullName())
		}
	}
	for _, r := range rmRepos {
		in.Repos = slices.DeleteFunc(in.Repos, func(x string) bool { return strings.EqualFold(x, r.FullName()) })
	}
	action := "added"
	if len(rmRepos) > 0 {
		action = "removed"
	}
	if sender == "" {
		sender = "octocat"
	}
	body := obj{"installation": s.installationJSON(in), "repository_selection": in.selection(),
		"repositories_added": s.repoRefs(addRepos), "repositories_removed": s.repoRefs(rmRepos),
		"requester": nil}
	s.emitInstallation("installation_repositories", action, in, sender, body)
	return nil
}

// SendPing sends the ping GitHub sends when an App's webhook is set up.
func (s *Sim) SendPing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[s.primaryApp]
	at := ts(a.CreatedAt)
	hook := obj{
		"type": "App", "id": hookID(a.ID), "name": "web", "active": true, "events": appEvents(),
		"config":     obj{"content_type": "json", "insecure_ssl": "0", "url": a.WebhookURL},
		"updated_at": at, "created_at": at, "app_id": a.ID,
		"url":            s.api("/app/hook/config"),
		"ping_url":       s.api("/app/hook/pings"),
		"deliveries_url": s.api("/app/hook/deliveries"),
	}
	s.emit("ping", "", 0, nil, "", obj{"zen": "Keep it logically awesome.", "hook_id": hookID(a.ID), "hook": hook})
}

func (s *Sim) emitInstallation(event, action string, in *Installation, sender string, body obj) {
	body["action"] = action
	body["sender"] = s.accountJSON(sender)
	d := s.newDelivery(event, action, in.AppID, in.ID, 0, body)
	if d != nil {
		s.enqueue(d)
	}
}

func (s *Sim) installationRepos(in *Installation) []*Repo {
	var out []*Repo
	for _, k := range slices.Sorted(maps.Keys(s.repos)) {
		if r := s.repos[k]; in.covers(r) {
			out = append(out, r)
		}
	}
	return out
}

func (s *Sim) repoRefs(rs []*Repo) []obj {
	out := make([]obj, 0, len(rs))
	for _, r := range rs {
		out = append(out, obj{"id": r.ID, "node_id": nodeID("Repository", r.ID), "name": r.Name,
			"full_name": r.FullName(), "private": r.Private})
	}
	return out
}
