package handlers_test

import (
	"strconv"
	"time"
)

// Payloads shaped like GitHub's (only the fields the handlers read, plus the
// envelope), for scenarios the recorded examples do not cover.

type obj = map[string]any

var acmeRepo = obj{
	"id": 42, "name": "infra", "full_name": "acme/infra",
	"owner": obj{"login": "acme", "id": 7, "type": "Organization"},
}

func envelope(action string, extra obj) obj {
	out := obj{
		"action": action, "repository": acmeRepo,
		"organization": obj{"login": "acme", "id": 7},
		"installation": obj{"id": 99}, "sender": obj{"login": "octocat", "id": 1, "type": "User"},
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// wjob describes one workflow_job event.
type wjob struct {
	Action     string // queued, waiting, in_progress, completed
	ID, RunID  int64
	RunnerID   int64
	RunnerName string
	Group      string // runner group name
	Labels     []string
	Conclusion string
}

func (w wjob) payload() obj {
	job := obj{
		"id": w.ID, "run_id": w.RunID, "run_attempt": 1, "status": w.Action,
		"name": "build", "workflow_name": "Sync", "head_branch": "main", "labels": w.Labels,
		"created_at": "2026-03-01T12:00:00Z",
	}
	if w.Labels == nil {
		job["labels"] = []string{"self-hosted", "alpha"}
	}
	if w.Conclusion != "" {
		job["conclusion"] = w.Conclusion
	}
	if w.RunnerID != 0 {
		name := w.RunnerName
		if name == "" {
			name = "runner"
		}
		group := w.Group
		if group == "" {
			group = "Default"
		}
		job["runner_id"], job["runner_name"], job["runner_group_id"], job["runner_group_name"] = w.RunnerID, name, 1, group
	}
	return envelope(w.Action, obj{"workflow_job": job})
}

// wrun describes one workflow_run event.
type wrun struct {
	Action       string // requested, in_progress, completed
	ID           int64
	Status       string // defaults to the action's status
	Conclusion   string
	Event        string // default workflow_dispatch
	Actor        string // default the App's bot
	DisplayTitle string
	Path         string // default .github/workflows/sync.yml
	Branch       string // default main
	CreatedAt    time.Time
}

func (w wrun) payload() obj {
	status := w.Status
	if status == "" {
		status = map[string]string{"requested": "queued", "in_progress": "in_progress", "completed": "completed"}[w.Action]
	}
	event, actor, path, branch := w.Event, w.Actor, w.Path, w.Branch
	if event == "" {
		event = "workflow_dispatch"
	}
	if actor == "" {
		actor = bot
	}
	if path == "" {
		path = ".github/workflows/sync.yml"
	}
	if branch == "" {
		branch = "main"
	}
	title := w.DisplayTitle
	if title == "" {
		title = "Sync"
	}
	created := w.CreatedAt
	if created.IsZero() {
		created = t0.Add(time.Second)
	}
	run := obj{
		"id": w.ID, "name": "Sync", "display_title": title, "path": path, "head_branch": branch,
		"event": event, "status": status, "workflow_id": 555, "run_number": 1, "run_attempt": 1,
		"html_url":   "https://github.com/acme/infra/actions/runs/" + strconv.FormatInt(w.ID, 10),
		"created_at": created.Format(time.RFC3339), "updated_at": created.Format(time.RFC3339),
		"actor": obj{"login": actor, "id": 2, "type": map[bool]string{true: "Bot", false: "User"}[actor == bot]},
	}
	if w.Conclusion != "" {
		run["conclusion"] = w.Conclusion
	}
	return envelope(w.Action, obj{"workflow_run": run, "workflow": obj{"id": 555, "path": path, "name": "Sync"}})
}
