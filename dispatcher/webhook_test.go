package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// webhookReceiver is a deliberately small stand-in for handlers/: it applies
// the simulator's workflow_job and workflow_run webhooks to the store the
// way docs/ARCHITECTURE.md (Runner state from webhooks) says (monotonic GitHub job status, runner busy/idle,
// run → job status) and wakes the current dispatcher, so the dispatcher can
// be tested end to end without importing handlers (which it must not).
// Signatures are not checked here; handlers/ owns and tests that.
type webhookReceiver struct{ e *env }

type hookPayload struct {
	Action      string `json:"action"`
	WorkflowJob *struct {
		ID           int64    `json:"id"`
		RunID        int64    `json:"run_id"`
		RunAttempt   int      `json:"run_attempt"`
		Status       string   `json:"status"`
		Conclusion   string   `json:"conclusion"`
		Labels       []string `json:"labels"`
		RunnerID     int64    `json:"runner_id"`
		RunnerName   string   `json:"runner_name"`
		HeadBranch   string   `json:"head_branch"`
		WorkflowName string   `json:"workflow_name"`
	} `json:"workflow_job"`
	WorkflowRun *struct {
		ID         int64  `json:"id"`
		Status     string `json:"status"`
		Conclusion string `json:"conclusion"`
	} `json:"workflow_run"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

func (h *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.e.failHooks.Load() {
		http.Error(w, "receiver down", http.StatusInternalServerError)
		return
	}
	var p hookPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var err error
	switch r.Header.Get("X-GitHub-Event") {
	case "workflow_job":
		if (p.Action != "completed" || !h.e.opts.ignoreJobCompleted) && (p.Action != "queued" || !h.e.opts.ignoreJobQueued) {
			err = h.workflowJob(r.Context(), p)
		}
	case "workflow_run":
		if !h.e.opts.ignoreRunEvents && (p.Action != "completed" || !h.e.opts.ignoreRunCompleted) {
			err = h.workflowRun(r.Context(), p)
		}
	}
	if err != nil {
		h.e.t.Logf("test webhook receiver: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *webhookReceiver) ourJob(ctx context.Context, runID int64) (core.Job, bool, error) {
	j, err := h.e.store.FindJobByRunID(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return core.Job{}, false, nil
	}
	return j, err == nil, err
}

func (h *webhookReceiver) workflowJob(ctx context.Context, p hookPayload) error {
	wj := p.WorkflowJob
	j, ours, err := h.ourJob(ctx, wj.RunID)
	for wait := time.Now().Add(2 * time.Second); err == nil && !ours && wj.Status == "queued" && h.e.opts.queuedAfterRun && time.Now().Before(wait); {
		time.Sleep(2 * time.Millisecond)
		j, ours, err = h.ourJob(ctx, wj.RunID)
	}
	if err != nil {
		return err
	}
	gj := store.GitHubJob{ID: wj.ID, RunID: wj.RunID, RunAttempt: wj.RunAttempt, Repo: p.Repository.FullName,
		WorkflowName: wj.WorkflowName, Labels: core.NormalizeLabels(wj.Labels), Status: store.GitHubJobStatus(wj.Status),
		Conclusion: wj.Conclusion, RunnerID: wj.RunnerID, RunnerName: wj.RunnerName, HeadBranch: wj.HeadBranch}
	if ours {
		gj.JobID = j.ID
	}
	applied, err := h.e.store.ApplyGitHubJob(ctx, gj)
	if err != nil || !applied {
		return err
	}
	if ours && (wj.Status == "queued" || wj.Status == "waiting") {
		return h.checkLabels(ctx, j, gj.Labels)
	}
	if wj.RunnerID == 0 {
		return nil
	}
	switch wj.Status {
	case "in_progress":
		owner, _, _ := strings.Cut(p.Repository.FullName, "/")
		if _, err := h.e.store.UpsertRunnerSeen(ctx, store.RunnerRecord{Runner: core.Runner{
			ID: wj.RunnerID, Name: wj.RunnerName, Scope: "org:" + owner}}); err != nil {
			return err
		}
		_, err = h.e.store.MarkRunnerBusy(ctx, wj.RunnerID, wj.ID)
	case "completed":
		_, _, err = h.e.store.FreeRunnerOfJob(ctx, wj.RunnerID, wj.ID)
		h.e.wake("runner idle")
		// An ephemeral runner vanishes after its job and its replacement
		// registers silently: re-list the scope soon, and once more later.
		if r, gerr := h.e.store.GetRunner(ctx, wj.RunnerID); gerr == nil && r.Ephemeral {
			if d := h.e.cur.Load(); d != nil {
				d.ScheduleScope(r.Scope, 150*time.Millisecond)
				d.ScheduleScope(r.Scope, 600*time.Millisecond)
			}
		}
	}
	return err
}

// checkLabels flags our job whose run asks for labels no runner of its
// group has, and wakes the dispatcher when that frees the runner the run
// held, as handlers/ does.
func (h *webhookReceiver) checkLabels(ctx context.Context, j core.Job, labels []string) error {
	var c queue.LabelCheck
	err := h.e.store.InTx(ctx, func(q *store.Q) (err error) {
		c, err = h.e.queue.CheckLabelsTx(ctx, q, j, labels)
		return err
	})
	if err != nil {
		return err
	}
	h.e.queue.Emit(c.Outcome)
	if len(c.Missing) > 0 && c.Outcome.Changed() {
		h.e.wake("label mismatch")
	}
	return nil
}

func (h *webhookReceiver) workflowRun(ctx context.Context, p hookPayload) error {
	wr := p.WorkflowRun
	j, ours, err := h.ourJob(ctx, wr.ID)
	if err != nil || !ours {
		return err
	}
	switch wr.Status {
	case "in_progress":
		if j.Status == core.StatusTriggered {
			_, err = h.e.queue.Transition(ctx, store.TransitionRequest{JobID: j.ID, From: j.Status, To: core.StatusRunning})
		}
	case "completed":
		if _, err = h.e.store.CompleteQueuedJobsOfRun(ctx, wr.ID, wr.Conclusion); err != nil {
			return err
		}
		_, err = h.e.queue.Finish(ctx, j.ID, wr.Conclusion, "")
		h.e.wake("job finished")
	}
	if errors.Is(err, store.ErrConflict) || errors.Is(err, core.ErrTransition) {
		return nil // reordered or duplicate: already applied
	}
	return err
}
