package ghsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// PullHead is where a pull request's head branch lives. Owner and Repo
// name the head repository; empty means the base repository itself, and a
// different repository makes the pull request come from a fork.
type PullHead struct {
	Owner, Repo string
	Ref         string
}

// pull is what a pull request has beyond its issue.
type pull struct {
	ID   int64
	Head PullHead // Owner and Repo always set
	// fork is the head repository when the simulator does not otherwise
	// know it (a contributor's fork outside every installation).
	fork *Repo
}

// AddPullRequest records a pull request of repo ("owner/name") whose head is
// head (replacing any issue of that number), so comments on it can be made
// and GET /repos/{owner}/{repo}/pulls/{number} answers with that head. A
// head in repo itself becomes one of repo's branches, so it can be
// dispatched to; a head in another repository is a fork, which need not be
// added with AddRepo.
func (s *Sim) AddPullRequest(repo string, number int, title string, head PullHead) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(repo)]
	if r == nil {
		return fmt.Errorf("ghsim: add pull request: no repo %q", repo)
	}
	if number <= 0 || head.Ref == "" {
		return fmt.Errorf("ghsim: add pull request %s#%d: a positive number and a head ref are required", repo, number)
	}
	if (head.Owner == "") != (head.Repo == "") {
		return fmt.Errorf("ghsim: add pull request %s#%d: give both the head owner and repo, or neither", repo, number)
	}
	s.issues[issueKey(r.FullName(), number)] = s.newIssue(r, number, title, "octocat", &head)
	return nil
}

// newIssue builds an issue of repo, a pull request when head is set. An
// empty head.Ref defaults to "patch-N", the name GitHub's web editor gives
// the branch of a first change. Callers hold s.mu.
func (s *Sim) newIssue(repo *Repo, number int, title, user string, head *PullHead) *issue {
	is := &issue{Repo: repo.FullName(), Number: number, Title: title, User: user, IsPR: head != nil, At: s.clock.Now()}
	if head == nil {
		return is
	}
	h := *head
	if h.Ref == "" {
		h.Ref = fmt.Sprintf("patch-%d", number)
	}
	if h.Owner == "" {
		h.Owner, h.Repo = repo.Owner, repo.Name
	}
	p := &pull{ID: s.newID(), Head: h}
	switch known := s.repos[strings.ToLower(h.Owner+"/"+h.Repo)]; {
	case known == nil:
		p.fork = &Repo{ID: s.newID(), Owner: h.Owner, Name: h.Repo, DefaultBranch: "main", Branches: []string{h.Ref}}
	case h.Ref != known.DefaultBranch && !slices.Contains(known.Branches, h.Ref):
		known.Branches = append(known.Branches, h.Ref)
	}
	is.Pull = p
	return is
}

// getPull answers GET /repos/{owner}/{repo}/pulls/{pull_number}. GitHub
// numbers issues and pull requests alike, and answers 404 for the number of
// an issue that is not a pull request.
func (c *call) getPull() {
	const doc = "/pulls/pulls#get-a-pull-request"
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := c.repo(doc)
	if repo == nil {
		return
	}
	n, err := strconv.Atoi(c.r.PathValue("pull_number"))
	is := s.issues[issueKey(repo.FullName(), n)]
	if err != nil || is == nil || is.Pull == nil {
		c.fail(http.StatusNotFound, "Not Found", doc)
		return
	}
	c.json(http.StatusOK, s.pullJSON(repo, is))
}

// pullJSON is REST pull-request (the full object of GET …/pulls/{n}).
// Callers hold s.mu.
func (s *Sim) pullJSON(base *Repo, is *issue) obj {
	p := is.Pull
	headRepo := p.fork
	if headRepo == nil {
		headRepo = s.repos[strings.ToLower(p.Head.Owner+"/"+p.Head.Repo)]
	}
	if headRepo == nil {
		// The head repository was a known one and has gone; keep the
		// base so the body stays well-formed.
		headRepo = base
	}
	fork := headRepo != base && !strings.EqualFold(headRepo.FullName(), base.FullName())
	headSHA := sha(headRepo.FullName(), p.Head.Ref)
	baseSHA := sha(base.FullName(), base.DefaultBranch)
	u := s.api("/repos/%s/pulls/%d", base.FullName(), is.Number)
	issueURL := s.api("/repos/%s/issues/%d", base.FullName(), is.Number)
	html := s.web("/%s/pull/%d", base.FullName(), is.Number)
	statuses := s.api("/repos/%s/statuses/%s", base.FullName(), headSHA)
	reviewComment := s.api("/repos/%s/pulls/comments{/number}", base.FullName())
	comments := 0
	for _, cm := range s.comments {
		if strings.EqualFold(cm.Repo, base.FullName()) && cm.Issue == is.Number {
			comments++
		}
	}
	link := func(href string) obj { return obj{"href": href} }
	return obj{
		"url": u, "id": p.ID, "node_id": nodeID("PullRequest", p.ID), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issueURL,
		"commits_url": u + "/commits", "review_comments_url": u + "/comments",
		"review_comment_url": reviewComment, "comments_url": issueURL + "/comments", "statuses_url": statuses,
		"number": is.Number, "state": "open", "locked": false, "title": is.Title, "user": s.accountJSON(is.User),
		"body": nil, "labels": []any{}, "milestone": nil, "active_lock_reason": nil,
		"created_at": ts(is.At), "updated_at": ts(is.At), "closed_at": nil, "merged_at": nil,
		"merge_commit_sha": nil, "assignee": nil, "assignees": []any{}, "requested_reviewers": []any{},
		"requested_teams": []any{},
		"head":            s.branchJSON(headRepo, p.Head.Ref, headSHA, fork),
		"base":            s.branchJSON(base, base.DefaultBranch, baseSHA, false),
		"_links": obj{
			"self": link(u), "html": link(html), "issue": link(issueURL), "comments": link(issueURL + "/comments"),
			"review_comments": link(u + "/comments"), "review_comment": link(reviewComment),
			"commits": link(u + "/commits"), "statuses": link(statuses),
		},
		"author_association": s.association(base.FullName(), is.User), "auto_merge": nil, "draft": false,
		"merged": false, "mergeable": true, "rebaseable": true, "mergeable_state": "clean", "merged_by": nil,
		"comments": comments, "review_comments": 0, "maintainer_can_modify": fork,
		"commits": 1, "additions": 1, "deletions": 0, "changed_files": 1,
	}
}

// branchJSON is a pull request's head or base: label "owner:ref", and the
// full repository.
func (s *Sim) branchJSON(r *Repo, ref, commit string, fork bool) obj {
	repo := s.repoJSON(r)
	repo["disabled"] = false
	repo["fork"] = fork
	return obj{"label": r.Owner + ":" + ref, "ref": ref, "sha": commit, "repo": repo, "user": s.accountJSON(r.Owner)}
}
