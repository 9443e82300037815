package core

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// RunFacts is what a workflow_run event tells about a run the App
// dispatched whose id we do not know: GitHub Enterprise Server before 3.20
// answers a dispatch without run details.
type RunFacts struct {
	// Owner and Repo are the run's repository.
	Owner, Repo string
	// DisplayTitle is the run's display_title; a workflow with
	// `run-name: ${{ inputs.dispatchoor_job_id }}` makes it our job's id.
	DisplayTitle string
	CreatedAt    time.Time
	// WorkflowID is the workflow's numeric id; Path its file path (it may
	// carry "@ref" for reusable workflows).
	WorkflowID int64
	Path       string
	HeadBranch string
}

// Correlation is what CorrelateRun found.
type Correlation struct {
	// Job is the one job the run belongs to; zero when none.
	Job Job
	// ByTitle: Job was matched by the run's display_title, beyond doubt.
	ByTitle bool
	// TitleJobID is the job id the display_title names when it names none
	// of the waiting jobs. If that job exists (it has a run, or ended), the
	// run is that job's and must not be given to another: the caller looks
	// it up and then ignores Job.
	TitleJobID int64
	// Ambiguous lists the jobs that all fit a run without a title; none is
	// chosen, since guessing could swap their runs.
	Ambiguous []int64
}

// CorrelateRun finds which of jobs (our dispatching and triggered jobs)
// dispatched run. Only a job of the run's repository still waiting for its
// run is a candidate. One whose id is the run's display_title matches
// beyond doubt; otherwise the run must fit exactly one job by workflow,
// branch and creation after the job's dispatch (minus skew, for the clocks
// of GitHub and this server).
func CorrelateRun(jobs []Job, run RunFacts, skew time.Duration) Correlation {
	var waiting []Job
	for _, j := range jobs {
		if j.RunID == 0 && strings.EqualFold(j.Owner, run.Owner) && strings.EqualFold(j.Repo, run.Repo) {
			waiting = append(waiting, j)
		}
	}
	title := strings.TrimSpace(run.DisplayTitle)
	for _, j := range waiting {
		if title == strconv.FormatInt(j.ID, 10) {
			return Correlation{Job: j, ByTitle: true}
		}
	}
	var c Correlation
	if id, err := strconv.ParseInt(title, 10, 64); err == nil && id > 0 {
		c.TitleJobID = id
	}
	var fits []Job
	for _, j := range waiting {
		if j.DispatchingAt == nil || run.CreatedAt.Before(j.DispatchingAt.Add(-skew)) {
			continue
		}
		if sameWorkflow(j.WorkflowID, run) && sameRef(j.Ref, run.HeadBranch) {
			fits = append(fits, j)
		}
	}
	switch len(fits) {
	case 0:
	case 1:
		c.Job = fits[0]
	default:
		for _, j := range fits {
			c.Ambiguous = append(c.Ambiguous, j.ID)
		}
	}
	return c
}

// sameWorkflow: a job names its workflow by file name, path or numeric id.
func sameWorkflow(workflowID string, run RunFacts) bool {
	if id, err := strconv.ParseInt(workflowID, 10, 64); err == nil {
		return id == run.WorkflowID
	}
	// Dispatches carry no "@ref"; compare the file part only.
	p, _, _ := strings.Cut(run.Path, "@")
	return p != "" && path.Base(p) == path.Base(workflowID)
}

// sameRef: a dispatch ref may be a branch, a tag or a full ref; the run's
// head_branch is the short name.
func sameRef(ref, headBranch string) bool {
	ref = strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	return ref != "" && ref == headBranch
}
