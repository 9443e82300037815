package ghsim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The run engine. Every function here runs with s.mu held: the lock is what
// makes "the first idle matching runner takes the job" a single decision, as
// it is on GitHub's side.

// startRun creates a run of w with one queued job and emits workflow_run
// requested and workflow_job queued. labels are the job's runs-on labels.
func (s *Sim) startRun(repo *Repo, w *Workflow, in *Installation, ref, actor string, inputs map[string]any, labels []string) *Run {
	now := s.clock.Now()
	key := strings.ToLower(repo.FullName()) + "/" + fmt.Sprint(w.ID)
	s.runNumbers[key]++
	run := &Run{
		ID: s.newID(), RunNumber: s.runNumbers[key], RunAttempt: 1, Repo: repo.FullName(),
		WorkflowID: w.ID, WorkflowPath: ".github/workflows/" + w.File, Name: w.Name,
		DisplayTitle: w.Name, Event: "workflow_dispatch", HeadBranch: ref, HeadSHA: sha(repo.FullName(), ref),
		Actor: actor, Inputs: inputs, Status: StatusQueued, CreatedAt: now, UpdatedAt: now,
		InstallationID: in.ID,
	}
	if w.RunNameInput != "" {
		if v, ok := inputs[w.RunNameInput]; ok {
			run.DisplayTitle = fmt.Sprint(v)
		}
	}
	dur := s.drawDuration(w)
	outcome := "success"
	if w.Conclusion != nil {
		outcome = w.Conclusion(s.rng)
	}
	job := &Job{ID: s.newID(), RunID: run.ID, Name: w.JobName, Labels: labels, Status: StatusQueued,
		CreatedAt: now, Duration: dur, Outcome: outcome}
	run.Jobs = []int64{job.ID}
	s.runs[run.ID] = run
	s.runOrder = append(s.runOrder, run.ID)
	s.jobs[job.ID] = job
	s.jobOrder = append(s.jobOrder, job.ID)

	s.emitRun(run, StatusRequested)
	s.emitJob(job, StatusQueued)
	s.log.Info().Int64("run", run.ID).Int64("job", job.ID).Str("repo", run.Repo).
		Strs("labels", labels).Msg("run queued")
	s.schedule()
	return run
}

func (s *Sim) drawDuration(w *Workflow) time.Duration {
	if w.Duration != nil {
		return w.Duration(s.rng)
	}
	lo, hi := s.opts.JobDurationMin, s.opts.JobDurationMax
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

func (s *Sim) emitRun(run *Run, action string) {
	repo := s.repos[strings.ToLower(run.Repo)]
	var w *Workflow
	for _, x := range repo.Workflows {
		if x.ID == run.WorkflowID {
			w = x
		}
	}
	s.emit("workflow_run", action, run.InstallationID, repo, run.Actor,
		obj{"workflow_run": s.runJSON(run), "workflow": s.workflowJSON(repo, w)})
}

func (s *Sim) emitJob(j *Job, action string) {
	run := s.runs[j.RunID]
	repo := s.repos[strings.ToLower(run.Repo)]
	s.emit("workflow_job", action, run.InstallationID, repo, run.Actor, obj{"workflow_job": s.jobJSON(j)})
}

// schedule hands queued jobs, oldest first, to the first idle online runner
// (oldest registered first) whose labels include all of the job's labels,
// compared case-insensitively as GitHub does.
func (s *Sim) schedule() {
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		if j.Status != StatusQueued || j.RunnerID != 0 {
			continue
		}
		run := s.runs[j.RunID]
		if r := s.matchRunner(run, j); r != nil {
			s.assign(run, j, r)
		}
	}
}

func (s *Sim) matchRunner(run *Run, j *Job) *Runner {
	owner, _, _ := strings.Cut(run.Repo, "/")
	for _, r := range s.runners {
		if !r.Online || r.Busy {
			continue
		}
		if !strings.EqualFold(r.Scope, "org:"+owner) && !strings.EqualFold(r.Scope, "repo:"+run.Repo) {
			continue
		}
		if hasLabels(r.Labels, j.Labels) {
			return r
		}
	}
	return nil
}

func hasLabels(have, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

// assign reserves r for j at once (so no other job takes it) and starts the
// job after the pickup delay, as a real runner polling for work would.
func (s *Sim) assign(run *Run, j *Job, r *Runner) {
	r.Busy, r.JobID = true, j.ID
	j.RunnerID, j.RunnerName, j.GroupID, j.GroupName = r.ID, r.Name, r.GroupID, r.GroupName
	s.after(s.opts.PickupDelay, func() {
		if j.Status != StatusQueued {
			return // cancelled meanwhile
		}
		now := s.clock.Now()
		j.Status, j.StartedAt = StatusInProgress, now
		if run.Status != StatusInProgress {
			run.Status, run.UpdatedAt = StatusInProgress, now
			s.emitRun(run, StatusInProgress)
		}
		s.emitJob(j, StatusInProgress)
		if run.cancelRequested {
			s.after(s.opts.CancelDelay, func() { s.finish(j, "cancelled") })
			return
		}
		s.after(j.Duration, func() { s.finish(j, j.Outcome) })
	})
}

// finish completes a job (once) and its run, frees or retires the runner,
// and schedules waiting jobs.
func (s *Sim) finish(j *Job, conclusion string) {
	if j.Status == StatusCompleted {
		return
	}
	now := s.clock.Now()
	j.Status, j.Conclusion, j.CompletedAt = StatusCompleted, conclusion, now
	if j.StartedAt.IsZero() {
		j.StartedAt = now
	}
	s.emitJob(j, StatusCompleted)
	run := s.runs[j.RunID]
	run.Status, run.Conclusion, run.UpdatedAt = StatusCompleted, conclusion, now
	s.emitRun(run, StatusCompleted)
	if j.RunnerID != 0 {
		s.releaseRunner(j.RunnerID)
	}
	s.schedule()
}

func (s *Sim) releaseRunner(id int64) {
	r := s.runner(id)
	if r == nil {
		return
	}
	r.Busy, r.JobID = false, 0
	if !r.Ephemeral {
		return
	}
	s.runners = slices.DeleteFunc(s.runners, func(x *Runner) bool { return x.ID == id })
	if !r.Replace {
		return
	}
	wait := r.ReplaceAfter
	if wait <= 0 {
		wait = 5 * time.Second
	}
	repl := *r
	repl.ID = 0
	repl.Name = replacementName(r.Name, s.newID())
	// A replacement registers silently: GitHub sends no webhook when a
	// runner registers, which is what the project's reconciler must cope with.
	s.after(wait, func() {
		s.addRunner(repl)
		s.schedule()
	})
}

func replacementName(name string, id int64) string {
	if i := strings.LastIndex(name, "-r"); i > 0 {
		name = name[:i]
	}
	return fmt.Sprintf("%s-r%d", name, id)
}

// cancelRun cancels a run: queued jobs end cancelled at once, running ones
// after CancelDelay. It reports false when the run had already completed.
func (s *Sim) cancelRun(run *Run) bool {
	if run.Status == StatusCompleted {
		return false
	}
	if run.cancelRequested {
		return true
	}
	run.cancelRequested = true
	for _, id := range run.Jobs {
		j := s.jobs[id]
		switch j.Status {
		case StatusQueued:
			if j.RunnerID != 0 {
				// Reserved but not started: the runner gives it back.
				s.releaseReserved(j)
			}
			s.finish(j, "cancelled")
		case StatusInProgress:
			s.after(s.opts.CancelDelay, func() { s.finish(j, "cancelled") })
		}
	}
	return true
}

func (s *Sim) releaseReserved(j *Job) {
	if r := s.runner(j.RunnerID); r != nil && r.JobID == j.ID {
		r.Busy, r.JobID = false, 0
	}
	j.RunnerID, j.RunnerName, j.GroupID, j.GroupName = 0, "", 0, ""
}
