package core

// Group is a pool of runners identified by labels, with its own queue.
type Group struct {
	ID            string   `json:"id" db:"id"`
	Name          string   `json:"name" db:"name"`
	RunnerLabels  []string `json:"runner_labels" db:"-"`
	RunnerScope   string   `json:"runner_scope" db:"runner_scope"`
	MaxConcurrent int      `json:"max_concurrent" db:"max_concurrent"`
	// Paused groups keep their queue but dispatch nothing.
	Paused bool `json:"paused" db:"paused"`
	// Enabled is false for a group that is no longer in the config: its jobs
	// stay visible but it never dispatches again.
	Enabled bool `json:"enabled" db:"enabled"`
}

// TemplateSourceKind says where a template was defined.
type TemplateSourceKind string

const (
	SourceInline TemplateSourceKind = "inline"
	SourceFile   TemplateSourceKind = "file"
	SourceURL    TemplateSourceKind = "url"
)

// TemplateSource tags a template with where it came from, so the UI can show
// it and an operator can find the file to edit.
type TemplateSource struct {
	Kind     TemplateSourceKind `json:"kind"`
	Location string             `json:"location,omitempty"` // file path or URL; empty for inline
}

// Template is a workflow_dispatch recipe that jobs are made from.
type Template struct {
	ID         string            `json:"id"`
	GroupID    string            `json:"group_id"`
	Name       string            `json:"name"`
	Owner      string            `json:"owner"`
	Repo       string            `json:"repo"`
	WorkflowID string            `json:"workflow_id"`
	Ref        string            `json:"ref"`
	Inputs     map[string]string `json:"inputs"`
	// Labels are free-form key/value tags for filtering history
	// (e.g. el: geth, cl: lighthouse); they are not runner labels.
	Labels map[string]string `json:"labels"`
	Source TemplateSource    `json:"source"`
	// LabelMismatch, when set, names the runs-on labels of this template's
	// runs that no runner of its group carries (see docs/ARCHITECTURE.md, Runner state from webhooks).
	LabelMismatch string `json:"label_mismatch,omitempty"`
}
