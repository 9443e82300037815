package ghsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AddOrg adds an organization (idempotent by login) and returns it.
func (s *Sim) AddOrg(login string) *Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addOrg(login)
}

func (s *Sim) addOrg(login string) *Org {
	if o, ok := s.orgs[strings.ToLower(login)]; ok {
		return o
	}
	o := &Org{ID: s.newID(), Login: login}
	s.orgs[strings.ToLower(login)] = o
	return o
}

// AddUser adds a user (replacing one of the same login) and returns its id.
func (s *Sim) AddUser(u User) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.newID()
	}
	perms := map[string]Permission{}
	for k, v := range u.Perms {
		perms[strings.ToLower(k)] = v
	}
	u.Perms = perms
	u.Orgs = slices.Clone(u.Orgs)
	s.users[strings.ToLower(u.Login)] = &u
	return u.ID
}

// SetPermission sets a user's role on a repository ("owner/name").
func (s *Sim) SetPermission(login, repo string, p Permission) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[strings.ToLower(login)]
	if !ok {
		return fmt.Errorf("ghsim: set permission: no user %q", login)
	}
	u.Perms[strings.ToLower(repo)] = p
	return nil
}

// AddRepo adds a repository with its workflows; its owner becomes an org
// unless a user of that login exists. Workflow ids are assigned when zero.
func (s *Sim) AddRepo(r Repo) (*Repo, error) {
	if r.Owner == "" || r.Name == "" {
		return nil, fmt.Errorf("ghsim: add repo: owner and name are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[strings.ToLower(r.Owner)]; !ok {
		s.addOrg(r.Owner)
	}
	if r.ID == 0 {
		r.ID = s.newID()
	}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	wfs := make([]*Workflow, 0, len(r.Workflows))
	for _, w := range r.Workflows {
		if w == nil || w.File == "" {
			return nil, fmt.Errorf("ghsim: add repo %s: a workflow needs a file name", r.FullName())
		}
		c := *w
		if c.ID == 0 {
			c.ID = s.newID()
		}
		if c.Name == "" {
			c.Name = c.File
		}
		if c.JobName == "" {
			c.JobName = "build"
		}
		c.Inputs = slices.Clone(c.Inputs)
		c.RunsOn = slices.Clone(c.RunsOn)
		wfs = append(wfs, &c)
	}
	r.Workflows = wfs
	r.Branches = slices.Clone(r.Branches)
	r.Tags = slices.Clone(r.Tags)
	s.repos[strings.ToLower(r.FullName())] = &r
	c := r
	return &c, nil
}

// AddIssue records an issue (or pull request when isPR) so comments on it
// can be made and reported. A pull request's head is the branch "patch-N"
// of repo itself; AddPullRequest chooses another head or a fork.
func (s *Sim) AddIssue(repo string, number int, title string, isPR bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[strings.ToLower(repo)]
	if !ok {
		return fmt.Errorf("ghsim: add issue: no repo %q", repo)
	}
	var head *PullHead
	if isPR {
		head = &PullHead{}
	}
	s.issues[issueKey(repo, number)] = s.newIssue(r, number, title, "octocat", head)
	return nil
}

func issueKey(repo string, n int) string { return fmt.Sprintf("%s#%d", strings.ToLower(repo), n) }

// AddInstallation installs an App on an account and returns the id.
func (s *Sim) AddInstallation(in Installation) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Account == "" {
		return 0, fmt.Errorf("ghsim: add installation: account is required")
	}
	if in.AppID == 0 {
		in.AppID = s.primaryApp
	}
	if _, ok := s.apps[in.AppID]; !ok {
		return 0, fmt.Errorf("ghsim: add installation: no app %d", in.AppID)
	}
	if in.ID == 0 {
		in.ID = s.newID()
	}
	if _, ok := s.users[strings.ToLower(in.Account)]; !ok {
		s.addOrg(in.Account)
	}
	if in.Repos != nil {
		in.Repos = slices.Clone(in.Repos)
	}
	s.installations[in.ID] = &in
	return in.ID, nil
}

// AddRunner registers a runner and returns its id. Online defaults to what
// the struct says; a new runner may immediately take a queued job.
func (s *Sim) AddRunner(r Runner) (int64, error) {
	if r.Name == "" || !strings.HasPrefix(r.Scope, "org:") && !strings.HasPrefix(r.Scope, "repo:") {
		return 0, fmt.Errorf("ghsim: add runner: a name and a scope (org:NAME or repo:OWNER/NAME) are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.addRunner(r)
	s.schedule()
	return id, nil
}

func (s *Sim) addRunner(r Runner) int64 {
	if r.ID == 0 {
		r.ID = s.newID()
	}
	if r.OS == "" {
		r.OS = "Linux"
	}
	if r.GroupID == 0 {
		r.GroupID, r.GroupName = 1, "Default"
	}
	r.Labels = slices.Clone(r.Labels)
	r.Busy, r.JobID = false, 0
	s.runners = append(s.runners, &r)
	return r.ID
}

// SetRunnerOnline takes a runner on- or offline. Going offline does not stop
// its job (GitHub would fail it much later; we do not model that).
func (s *Sim) SetRunnerOnline(id int64, online bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runner(id)
	if r == nil {
		return fmt.Errorf("ghsim: set runner %d online: no such runner", id)
	}
	r.Online = online
	s.schedule()
	return nil
}

// RemoveRunner deregisters a runner. Like GitHub, no webhook says so.
func (s *Sim) RemoveRunner(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.runners {
		if r.ID == id {
			s.runners = slices.Delete(s.runners, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("ghsim: remove runner %d: no such runner", id)
}

func (s *Sim) runner(id int64) *Runner {
	for _, r := range s.runners {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Runners returns a snapshot of all runners, oldest first.
func (s *Sim) Runners() []Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Runner, 0, len(s.runners))
	for _, r := range s.runners {
		c := *r
		c.Labels = slices.Clone(r.Labels)
		out = append(out, c)
	}
	return out
}

// Runs returns a snapshot of all runs, oldest first.
func (s *Sim) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Run, 0, len(s.runOrder))
	for _, id := range s.runOrder {
		out = append(out, s.runs[id].snapshot())
	}
	return out
}

// GetRun returns a snapshot of one run.
func (s *Sim) GetRun(id int64) (Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return Run{}, false
	}
	return r.snapshot(), true
}

// Jobs returns a snapshot of all jobs, oldest first.
func (s *Sim) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.jobOrder))
	for _, id := range s.jobOrder {
		j := *s.jobs[id]
		j.Labels = slices.Clone(j.Labels)
		out = append(out, j)
	}
	return out
}

// Comments returns a snapshot of all issue comments, oldest first.
func (s *Sim) Comments() []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Sorted(maps.Keys(s.comments))
	out := make([]Comment, 0, len(ids))
	for _, id := range ids {
		out = append(out, *s.comments[id])
	}
	return out
}

// Reactions returns a snapshot of all reactions, oldest first.
func (s *Sim) Reactions() []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Reaction, 0, len(s.reactions))
	for _, r := range s.reactions {
		out = append(out, *r)
	}
	return out
}

func (r *Run) snapshot() Run {
	c := *r
	c.Inputs = maps.Clone(r.Inputs)
	c.Jobs = slices.Clone(r.Jobs)
	return c
}

// installationFor finds the installation of the given app that covers repo.
func (s *Sim) installationFor(appID int64, repo *Repo) *Installation {
	for _, id := range slices.Sorted(maps.Keys(s.installations)) {
		in := s.installations[id]
		if in.AppID == appID && in.covers(repo) {
			return in
		}
	}
	return nil
}

func (in *Installation) covers(repo *Repo) bool {
	if !strings.EqualFold(in.Account, repo.Owner) {
		return false
	}
	if in.Repos == nil {
		return true
	}
	for _, r := range in.Repos {
		if strings.EqualFold(r, repo.FullName()) {
			return true
		}
	}
	return false
}
