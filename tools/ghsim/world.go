package ghsim

import (
	"math/rand/v2"
	"time"
)

// Permission is a collaborator's role on a repository, as GitHub names it in
// GET /repos/{o}/{r}/collaborators/{user}/permission ("role_name").
type Permission string

const (
	PermNone     Permission = "none"
	PermRead     Permission = "read"
	PermTriage   Permission = "triage"
	PermWrite    Permission = "write"
	PermMaintain Permission = "maintain"
	PermAdmin    Permission = "admin"
)

// legacy is the old-style "permission" field GitHub still sends next to
// role_name: it only knows admin/write/read/none, so maintain folds into write
// and triage into read.
func (p Permission) legacy() string {
	switch p {
	case PermAdmin:
		return "admin"
	case PermMaintain, PermWrite:
		return "write"
	case PermTriage, PermRead:
		return "read"
	}
	return "none"
}

// Org is an organization account.
type Org struct {
	ID    int64
	Login string
}

// User is a user account.
type User struct {
	ID    int64
	Login string
	Name  string
	Email string
	// Orgs the user is a member of (for GET /user/orgs).
	Orgs []string
	// Perms per "owner/repo" (case-insensitive).
	Perms map[string]Permission
}

// WorkflowInput is one declared workflow_dispatch input.
type WorkflowInput struct {
	Name     string
	Required bool
	Default  string
}

// Workflow is a workflow file of a repository with a workflow_dispatch trigger.
type Workflow struct {
	ID   int64  // assigned by AddRepo when zero
	File string // e.g. "sync.yml"; the path is .github/workflows/<File>
	Name string // defaults to File
	// Inputs declared under on.workflow_dispatch.inputs. A dispatch with an
	// input not declared here is refused with 422, as GitHub does.
	Inputs []WorkflowInput
	// RunsOn are the job's runs-on labels. When RunsOnInput is set and the
	// dispatch carries that input, its value (a label, a comma-separated list
	// or a JSON array) replaces RunsOn, modelling `runs-on: ${{ inputs.X }}`.
	RunsOn      []string
	RunsOnInput string
	// RunNameInput, when set, models `run-name: ${{ inputs.X }}`: the run's
	// display_title is that input's value.
	RunNameInput string
	// JobName is the name of the single job; defaults to "build".
	JobName string
	// Duration draws how long a job of this workflow runs (simulated time)
	// from the scenario's random source; nil uses Options.JobDuration.
	Duration func(r *rand.Rand) time.Duration
	// Conclusion draws how a job ends; nil means "success". GitHub's
	// workflow_job conclusions: success, failure, cancelled, skipped.
	Conclusion func(r *rand.Rand) string
}

// Repo is a repository.
type Repo struct {
	ID            int64
	Owner         string
	Name          string
	DefaultBranch string // "main" when empty
	Private       bool
	Workflows     []*Workflow
	// Branches that exist; a dispatch to another ref is refused with 422.
	// DefaultBranch always exists.
	Branches []string
	// Tags that exist (a dispatch may target a tag).
	Tags []string
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// Installation is the App installed on an account.
type Installation struct {
	ID      int64
	AppID   int64  // zero means the simulator's primary App
	Account string // org or user login
	// Repos is the selection ("owner/name"); nil means "all".
	Repos     []string
	Suspended bool
}

// Runner is a simulated self-hosted runner.
type Runner struct {
	ID   int64
	Name string
	// Scope is "org:NAME" or "repo:OWNER/NAME".
	Scope     string
	Labels    []string
	Ephemeral bool
	Online    bool
	Busy      bool
	OS        string // "Linux" when empty
	// GroupID and GroupName are the runner group (GitHub's, not ours);
	// 1/"Default" when empty.
	GroupID   int64
	GroupName string
	// JobID is the workflow job it is running.
	JobID int64
	// Replace, for an ephemeral runner, registers a fresh runner with the
	// same labels ReplaceAfter (simulated) after it finishes its job, without
	// any webhook, as actions-runner-controller does.
	Replace      bool
	ReplaceAfter time.Duration
}

// RunStatus / JobStatus values as GitHub spells them.
const (
	StatusRequested  = "requested"
	StatusQueued     = "queued"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
)

// Run is a workflow run.
type Run struct {
	ID           int64
	RunNumber    int
	RunAttempt   int
	Repo         string // owner/name
	WorkflowID   int64
	WorkflowPath string
	Name         string
	DisplayTitle string
	Event        string // "workflow_dispatch"
	HeadBranch   string
	HeadSHA      string
	Actor        string
	Inputs       map[string]any
	Status       string
	Conclusion   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	StartedAt    time.Time
	Jobs         []int64
	// InstallationID is the installation whose webhooks report this run.
	InstallationID  int64
	cancelRequested bool
}

// Job is a workflow job of a run.
type Job struct {
	ID          int64
	RunID       int64
	Name        string
	Labels      []string
	Status      string
	Conclusion  string
	RunnerID    int64
	RunnerName  string
	GroupID     int64
	GroupName   string
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
	// Duration is how long it will run once a runner takes it.
	Duration time.Duration
	// Outcome is the conclusion it will end with.
	Outcome string
}

// Comment is an issue or pull-request comment.
type Comment struct {
	ID        int64
	Repo      string
	Issue     int
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Reaction is a reaction on an issue comment.
type Reaction struct {
	ID        int64
	CommentID int64
	User      string
	Content   string
	CreatedAt time.Time
}

type issue struct {
	Repo   string
	Number int
	Title  string
	User   string
	IsPR   bool
	At     time.Time
	// Pull is set for pull requests (see AddPullRequest).
	Pull *pull
}
