package ghsim

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The builders below produce the JSON objects GitHub sends, with exactly the
// fields @octokit/webhooks-schemas allows: several of its definitions forbid
// additional properties, so a field is added only together with a
// conformance run. Callers hold s.mu (they read s.baseURL).

type obj = map[string]any

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "0%d:%s%d", len(kind), kind, id))
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// sha is a stable fake commit sha for a repo and ref.
func sha(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

func (s *Sim) api(path string, args ...any) string {
	return s.baseURL + "/api/v3" + fmt.Sprintf(path, args...)
}

func (s *Sim) web(path string, args ...any) string {
	return s.baseURL + fmt.Sprintf(path, args...)
}

// accountJSON is a user-shaped account (simple-user / webhook user).
func (s *Sim) accountJSON(login string) obj {
	var id int64
	typ := "User"
	switch {
	case s.users[strings.ToLower(login)] != nil:
		id = s.users[strings.ToLower(login)].ID
	case s.orgs[strings.ToLower(login)] != nil:
		id, typ = s.orgs[strings.ToLower(login)].ID, "Organization"
	case strings.HasSuffix(login, "[bot]"):
		typ = "Bot"
		for _, a := range s.apps {
			if a.Slug+"[bot]" == login {
				id = 9_000_000 + a.ID
			}
		}
	}
	if id == 0 {
		id = int64(len(login))*7919 + 100
	}
	// Bot logins carry "[bot]", which must be escaped to make a valid URI.
	u := s.api("/users/%s", url.PathEscape(login))
	html := s.web("/%s", url.PathEscape(login))
	if typ == "Bot" {
		html = s.web("/apps/%s", strings.TrimSuffix(login, "[bot]"))
	}
	kind := map[string]string{"User": "User", "Organization": "Organization", "Bot": "Bot"}[typ]
	return obj{
		"login": login, "id": id, "node_id": nodeID(kind, id),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d?v=4", s.baseURL, id),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            html,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                typ,
		"site_admin":          false,
	}
}

// orgJSON is organization-simple / webhook organization.
func (s *Sim) orgJSON(o *Org) obj {
	u := s.api("/orgs/%s", o.Login)
	return obj{
		"login": o.Login, "id": o.ID, "node_id": nodeID("Organization", o.ID),
		"url":                u,
		"repos_url":          u + "/repos",
		"events_url":         u + "/events",
		"hooks_url":          u + "/hooks",
		"issues_url":         u + "/issues",
		"members_url":        u + "/members{/member}",
		"public_members_url": u + "/public_members{/member}",
		"avatar_url":         fmt.Sprintf("%s/avatars/u/%d?v=4", s.baseURL, o.ID),
		"description":        nil,
	}
}

// repoLiteJSON is the repository shape inside workflow runs (REST
// minimal-repository; webhook workflow_run.repository).
func (s *Sim) repoLiteJSON(r *Repo) obj {
	u := s.api("/repos/%s", r.FullName())
	return obj{
		"id": r.ID, "node_id": nodeID("Repository", r.ID), "name": r.Name, "full_name": r.FullName(),
		"private": r.Private, "owner": s.accountJSON(r.Owner), "html_url": s.web("/%s", r.FullName()),
		"description": nil, "fork": false, "url": u,
		"archive_url":       u + "/{archive_format}{/ref}",
		"assignees_url":     u + "/assignees{/user}",
		"blobs_url":         u + "/git/blobs{/sha}",
		"branches_url":      u + "/branches{/branch}",
		"collaborators_url": u + "/collaborators{/collaborator}",
		"comments_url":      u + "/comments{/number}",
		"commits_url":       u + "/commits{/sha}",
		"compare_url":       u + "/compare/{base}...{head}",
		"contents_url":      u + "/contents/{+path}",
		"contributors_url":  u + "/contributors",
		"deployments_url":   u + "/deployments",
		"downloads_url":     u + "/downloads",
		"events_url":        u + "/events",
		"forks_url":         u + "/forks",
		"git_commits_url":   u + "/git/commits{/sha}",
		"git_refs_url":      u + "/git/refs{/sha}",
		"git_tags_url":      u + "/git/tags{/sha}",
		"hooks_url":         u + "/hooks",
		"issue_comment_url": u + "/issues/comments{/number}",
		"issue_events_url":  u + "/issues/events{/number}",
		"issues_url":        u + "/issues{/number}",
		"keys_url":          u + "/keys{/key_id}",
		"labels_url":        u + "/labels{/name}",
		"languages_url":     u + "/languages",
		"merges_url":        u + "/merges",
		"milestones_url":    u + "/milestones{/number}",
		"notifications_url": u + "/notifications{?since,all,participating}",
		"pulls_url":         u + "/pulls{/number}",
		"releases_url":      u + "/releases{/id}",
		"stargazers_url":    u + "/stargazers",
		"statuses_url":      u + "/statuses/{sha}",
		"subscribers_url":   u + "/subscribers",
		"subscription_url":  u + "/subscription",
		"tags_url":          u + "/tags",
		"teams_url":         u + "/teams",
		"trees_url":         u + "/git/trees{/sha}",
	}
}

// repoJSON is the full webhook repository object.
func (s *Sim) repoJSON(r *Repo) obj {
	o := s.repoLiteJSON(r)
	created := s.clock.realStart.Add(-24 * time.Hour)
	vis := "public"
	if r.Private {
		vis = "private"
	}
	for k, v := range map[string]any{
		"created_at": ts(created), "updated_at": ts(created), "pushed_at": ts(created),
		"git_url":   strings.Replace(s.web("/%s.git", r.FullName()), "http", "git", 1),
		"ssh_url":   "git@ghsim.invalid:" + r.FullName() + ".git",
		"clone_url": s.web("/%s.git", r.FullName()), "svn_url": s.web("/%s", r.FullName()),
		"homepage": nil, "size": 0, "stargazers_count": 0, "watchers_count": 0, "language": "Go",
		"has_issues": true, "has_projects": false, "has_downloads": true, "has_wiki": false,
		"has_pages": false, "forks_count": 0, "mirror_url": nil, "archived": false,
		"open_issues_count": 0, "license": nil, "forks": 0, "open_issues": 0, "watchers": 0,
		"default_branch": r.DefaultBranch, "is_template": false, "web_commit_signoff_required": false,
		"topics": []string{}, "visibility": vis, "custom_properties": obj{},
	} {
		o[k] = v
	}
	return o
}

func (s *Sim) installationLiteJSON(id int64) obj {
	return obj{"id": id, "node_id": nodeID("Integration::Installation", id)}
}

// installationJSON is REST installation / webhook installation.
func (s *Sim) installationJSON(in *Installation) obj {
	a := s.apps[in.AppID]
	var suspendedAt, suspendedBy any
	if in.Suspended {
		suspendedAt = ts(s.clock.Now())
		suspendedBy = s.accountJSON("octocat")
	}
	typ := "Organization"
	var target int64
	if o := s.orgs[strings.ToLower(in.Account)]; o != nil {
		target = o.ID
	} else if u := s.users[strings.ToLower(in.Account)]; u != nil {
		typ, target = "User", u.ID
	}
	return obj{
		"id": in.ID, "account": s.accountJSON(in.Account), "repository_selection": in.selection(),
		"access_tokens_url": s.api("/app/installations/%d/access_tokens", in.ID),
		"repositories_url":  s.api("/installation/repositories"),
		"html_url":          s.web("/organizations/%s/settings/installations/%d", in.Account, in.ID),
		"app_id":            a.ID, "app_slug": a.Slug, "target_id": target, "target_type": typ,
		"permissions": appPermissions(), "events": appEvents(),
		"created_at": ts(a.CreatedAt), "updated_at": ts(a.CreatedAt),
		"single_file_name": nil, "suspended_at": suspendedAt, "suspended_by": suspendedBy,
	}
}

// appJSON is REST integration (GET /app).
func (s *Sim) appJSON(a *app) obj {
	return obj{
		"id": a.ID, "slug": a.Slug, "node_id": nodeID("Integration", a.ID), "client_id": a.ClientID,
		"owner": s.accountJSON(a.Owner), "name": a.Name, "description": "",
		"external_url": s.baseURL, "html_url": s.web("/apps/%s", a.Slug),
		"created_at": ts(a.CreatedAt), "updated_at": ts(a.CreatedAt),
		"permissions": appPermissions(), "events": appEvents(),
		"installations_count": s.installationCount(a.ID),
	}
}

func (s *Sim) installationCount(appID int64) int {
	n := 0
	for _, in := range s.installations {
		if in.AppID == appID {
			n++
		}
	}
	return n
}

func (s *Sim) workflowJSON(r *Repo, w *Workflow) obj {
	at := ts(s.clock.realStart.Add(-24 * time.Hour))
	return obj{
		"id": w.ID, "node_id": nodeID("Workflow", w.ID), "name": w.Name,
		"path": ".github/workflows/" + w.File, "state": "active",
		"created_at": at, "updated_at": at,
		"url":       s.api("/repos/%s/actions/workflows/%d", r.FullName(), w.ID),
		"html_url":  s.web("/%s/blob/%s/.github/workflows/%s", r.FullName(), r.DefaultBranch, w.File),
		"badge_url": s.web("/%s/workflows/%s/badge.svg", r.FullName(), w.Name),
	}
}

// runJSON is a workflow run (REST workflow-run and webhook workflow_run).
func (s *Sim) runJSON(run *Run) obj {
	r := s.repos[strings.ToLower(run.Repo)]
	u := s.api("/repos/%s/actions/runs/%d", run.Repo, run.ID)
	var conclusion any
	if run.Conclusion != "" {
		conclusion = run.Conclusion
	}
	suite := run.ID + 7_000_000
	return obj{
		"id": run.ID, "node_id": nodeID("WorkflowRun", run.ID), "name": run.Name,
		"display_title": run.DisplayTitle, "path": run.WorkflowPath,
		"run_number": run.RunNumber, "run_attempt": run.RunAttempt, "event": run.Event,
		"status": run.Status, "conclusion": conclusion,
		"workflow_id": run.WorkflowID, "head_branch": run.HeadBranch, "head_sha": run.HeadSHA,
		"check_suite_id": suite, "check_suite_node_id": nodeID("CheckSuite", suite),
		"check_suite_url": s.api("/repos/%s/check-suites/%d", run.Repo, suite),
		"url":             u, "html_url": s.web("/%s/actions/runs/%d", run.Repo, run.ID),
		"jobs_url": u + "/jobs", "logs_url": u + "/logs", "cancel_url": u + "/cancel",
		"rerun_url": u + "/rerun", "artifacts_url": u + "/artifacts",
		"workflow_url":         s.api("/repos/%s/actions/workflows/%d", run.Repo, run.WorkflowID),
		"previous_attempt_url": nil,
		"pull_requests":        []any{},
		"created_at":           ts(run.CreatedAt), "updated_at": ts(run.UpdatedAt),
		"run_started_at": ts(run.CreatedAt),
		"actor":          s.accountJSON(run.Actor), "triggering_actor": s.accountJSON(run.Actor),
		"head_commit": obj{
			"id": run.HeadSHA, "tree_id": sha(run.HeadSHA, "tree"), "message": "Update " + run.WorkflowPath,
			"timestamp": ts(s.clock.realStart.Add(-time.Hour)),
			"author":    obj{"name": "Octocat", "email": "octocat@users.noreply.github.com"},
			"committer": obj{"name": "GitHub", "email": "noreply@github.com"},
		},
		"repository":      s.repoLiteJSON(r),
		"head_repository": s.repoLiteJSON(r),
	}
}

// jobJSON is a workflow job (REST job and webhook workflow_job).
func (s *Sim) jobJSON(j *Job) obj {
	run := s.runs[j.RunID]
	u := s.api("/repos/%s/actions/jobs/%d", run.Repo, j.ID)
	var conclusion, runnerID, runnerName, groupID, groupName any
	if j.Conclusion != "" {
		conclusion = j.Conclusion
	}
	if j.RunnerID != 0 {
		runnerID, runnerName, groupID, groupName = j.RunnerID, j.RunnerName, j.GroupID, j.GroupName
	}
	started := j.StartedAt
	if started.IsZero() {
		// GitHub reports started_at = created_at until a runner takes the job.
		started = j.CreatedAt
	}
	steps := []any{}
	if j.Status != StatusQueued && j.RunnerID != 0 {
		step := obj{"name": "Set up job", "status": j.Status, "conclusion": conclusion, "number": 1,
			"started_at": ts(started), "completed_at": ts(j.CompletedAt)}
		steps = append(steps, step)
	}
	return obj{
		"id": j.ID, "run_id": j.RunID, "run_url": s.api("/repos/%s/actions/runs/%d", run.Repo, run.ID),
		"run_attempt": run.RunAttempt, "node_id": nodeID("CheckRun", j.ID), "head_sha": run.HeadSHA,
		"url": u, "html_url": s.web("/%s/actions/runs/%d/job/%d", run.Repo, run.ID, j.ID),
		"status": j.Status, "conclusion": conclusion,
		"created_at": ts(j.CreatedAt), "started_at": ts(started), "completed_at": ts(j.CompletedAt),
		"name": j.Name, "steps": steps, "check_run_url": s.api("/repos/%s/check-runs/%d", run.Repo, j.ID),
		"labels": j.Labels, "runner_id": runnerID, "runner_name": runnerName,
		"runner_group_id": groupID, "runner_group_name": groupName,
		"workflow_name": run.Name, "head_branch": run.HeadBranch,
	}
}

func (s *Sim) runnerJSON(r *Runner) obj {
	labels := make([]any, 0, len(r.Labels))
	for i, l := range r.Labels {
		typ := "custom"
		if strings.EqualFold(l, "self-hosted") || strings.EqualFold(l, "linux") || strings.EqualFold(l, "x64") {
			typ = "read-only"
		}
		labels = append(labels, obj{"id": int64(i + 1), "name": l, "type": typ})
	}
	status := "offline"
	if r.Online {
		status = "online"
	}
	return obj{"id": r.ID, "name": r.Name, "os": r.OS, "status": status, "busy": r.Busy,
		"labels": labels, "ephemeral": r.Ephemeral, "runner_group_id": r.GroupID}
}

func (s *Sim) commentJSON(c *Comment) obj {
	u := s.api("/repos/%s/issues/comments/%d", c.Repo, c.ID)
	return obj{
		"id": c.ID, "node_id": nodeID("IssueComment", c.ID), "url": u,
		"html_url":  s.web("/%s/issues/%d#issuecomment-%d", c.Repo, c.Issue, c.ID),
		"issue_url": s.api("/repos/%s/issues/%d", c.Repo, c.Issue),
		"body":      c.Body, "user": s.accountJSON(c.User),
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt),
		"author_association":       s.association(c.Repo, c.User),
		"performed_via_github_app": nil,
		"reactions":                s.reactionRollup(c.ID, u+"/reactions"),
	}
}

func (s *Sim) reactionRollup(commentID int64, url string) obj {
	o := obj{"url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
		"heart": 0, "hooray": 0, "eyes": 0, "rocket": 0}
	for _, r := range s.reactions {
		if r.CommentID == commentID {
			o[r.Content] = o[r.Content].(int) + 1
			o["total_count"] = o["total_count"].(int) + 1
		}
	}
	return o
}

func (s *Sim) association(repo, login string) string {
	if u := s.users[strings.ToLower(login)]; u != nil {
		switch u.Perms[strings.ToLower(repo)] {
		case PermAdmin, PermMaintain, PermWrite, PermTriage:
			return "MEMBER"
		case PermRead:
			return "CONTRIBUTOR"
		}
	}
	if strings.HasSuffix(login, "[bot]") {
		return "NONE"
	}
	return "NONE"
}

func (s *Sim) issueJSON(is *issue) obj {
	u := s.api("/repos/%s/issues/%d", is.Repo, is.Number)
	comments := 0
	for _, c := range s.comments {
		if strings.EqualFold(c.Repo, is.Repo) && c.Issue == is.Number {
			comments++
		}
	}
	o := obj{
		"url": u, "repository_url": s.api("/repos/%s", is.Repo), "labels_url": u + "/labels{/name}",
		"comments_url": u + "/comments", "events_url": u + "/events",
		"html_url": s.web("/%s/issues/%d", is.Repo, is.Number),
		"id":       int64(is.Number) + 5_000_000, "node_id": nodeID("Issue", int64(is.Number)+5_000_000),
		"number": is.Number, "title": is.Title, "user": s.accountJSON(is.User),
		"labels": []any{}, "state": "open", "locked": false, "assignee": nil, "assignees": []any{},
		"milestone": nil, "comments": comments, "created_at": ts(is.At), "updated_at": ts(is.At),
		"closed_at": nil, "author_association": "OWNER", "active_lock_reason": nil, "body": nil,
		"reactions": obj{"url": u + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
			"confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0},
		"timeline_url": u + "/timeline",
	}
	if is.IsPR {
		o["html_url"] = s.web("/%s/pull/%d", is.Repo, is.Number)
		o["pull_request"] = obj{
			"url":       s.api("/repos/%s/pulls/%d", is.Repo, is.Number),
			"html_url":  s.web("/%s/pull/%d", is.Repo, is.Number),
			"diff_url":  s.web("/%s/pull/%d.diff", is.Repo, is.Number),
			"patch_url": s.web("/%s/pull/%d.patch", is.Repo, is.Number),
			"merged_at": nil,
		}
	}
	return o
}
