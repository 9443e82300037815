package server

import (
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// jobJSON is a job exactly as docs/API.md (Jobs) shapes it: every field always
// present (null or empty when unknown), the same words as the database and
// the UI. core.Job carries more (attempt ids, back-off) that is internal;
// cancel_requested and label_mismatch are not in the original list but are
// what the UI shows while a cancel awaits GitHub's confirmation and while a
// run waits for labels no runner of its group has.
type jobJSON struct {
	ID           int64             `json:"id"`
	GroupID      string            `json:"group_id"`
	TemplateID   string            `json:"template_id"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Repo         string            `json:"repo"`
	WorkflowID   string            `json:"workflow_id"`
	Ref          string            `json:"ref"`
	Inputs       map[string]string `json:"inputs"`
	Status       core.JobStatus    `json:"status"`
	Paused       bool              `json:"paused"`
	Position     float64           `json:"position"`
	AutoRequeue  bool              `json:"auto_requeue"`
	RequeueLimit int               `json:"requeue_limit"`
	RequeueCount int               `json:"requeue_count"`
	RunID        int64             `json:"run_id"`
	RunURL       string            `json:"run_url"`
	RunnerName   string            `json:"runner_name"`
	Conclusion   string            `json:"conclusion"`
	Error        string            `json:"error"`
	Source       core.JobSource    `json:"source"`
	SourceURL    string            `json:"source_url"`
	CreatedBy    string            `json:"created_by"`
	CreatedAt    time.Time         `json:"created_at"`
	TriggeredAt  *time.Time        `json:"triggered_at"`
	StartedAt    *time.Time        `json:"started_at"`
	CompletedAt  *time.Time        `json:"completed_at"`
	// CancelRequested: a cancel was sent to GitHub and awaits confirmation.
	CancelRequested bool `json:"cancel_requested"`
	// LabelMismatch names the runs-on labels no runner of the group has
	// ("" when none).
	LabelMismatch string `json:"label_mismatch"`
}

func toJobJSON(j core.Job) jobJSON {
	in := j.Inputs
	if in == nil {
		in = map[string]string{}
	}
	return jobJSON{
		ID: j.ID, GroupID: j.GroupID, TemplateID: j.TemplateID, Name: j.Name, Owner: j.Owner,
		Repo: j.Repo, WorkflowID: j.WorkflowID, Ref: j.Ref, Inputs: in, Status: j.Status,
		Paused: j.Paused, Position: j.Position, AutoRequeue: j.AutoRequeue,
		RequeueLimit: j.RequeueLimit, RequeueCount: j.RequeueCount, RunID: j.RunID,
		RunURL: j.RunURL, RunnerName: j.RunnerName, Conclusion: j.Conclusion, Error: j.Error,
		Source: j.Source, SourceURL: j.SourceURL, CreatedBy: j.CreatedBy, CreatedAt: j.CreatedAt,
		TriggeredAt: j.TriggeredAt, StartedAt: j.StartedAt, CompletedAt: j.CompletedAt,
		CancelRequested: j.CancelRequested, LabelMismatch: j.LabelMismatch,
	}
}

func toJobsJSON(js []core.Job) []jobJSON {
	out := make([]jobJSON, 0, len(js))
	for _, j := range js {
		out = append(out, toJobJSON(j))
	}
	return out
}
