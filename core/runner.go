package core

// RunnerStatus is GitHub's view of a runner's connection.
type RunnerStatus string

const (
	RunnerOnline  RunnerStatus = "online"
	RunnerOffline RunnerStatus = "offline"
)

// Runner is a self-hosted runner as GitHub reports it.
type Runner struct {
	ID   int64  `json:"id" db:"id"`
	Name string `json:"name" db:"name"`
	// Scope is the owner the runner is registered to: "org:NAME" or
	// "repo:OWNER/NAME".
	Scope     string       `json:"scope" db:"scope"`
	Labels    []string     `json:"labels" db:"-"`
	Status    RunnerStatus `json:"status" db:"status"`
	Busy      bool         `json:"busy" db:"busy"`
	Ephemeral bool         `json:"ephemeral" db:"ephemeral"`
	// CurrentJobID is the GitHub workflow job the runner is running, 0 if none.
	CurrentJobID int64 `json:"current_job_id,omitempty" db:"current_job_id"`
}

// Idle reports whether the runner can take a job now.
func (r Runner) Idle() bool {
	return r.Status == RunnerOnline && !r.Busy
}
