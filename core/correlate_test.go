package core

import (
	"slices"
	"testing"
	"time"
)

func TestCorrelateRun(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	job := func(id int64, wf, ref string, dispatched *time.Time) Job {
		return Job{ID: id, Owner: "acme", Repo: "infra", WorkflowID: wf, Ref: ref, Status: StatusTriggered, DispatchingAt: dispatched}
	}
	run := RunFacts{Owner: "ACME", Repo: "infra", CreatedAt: t0.Add(time.Second), WorkflowID: 55,
		Path: ".github/workflows/sync.yml@refs/heads/main", HeadBranch: "main"}
	withRun := job(9, "sync.yml", "main", at(0))
	withRun.RunID = 700
	otherRepo := job(10, "sync.yml", "main", at(0))
	otherRepo.Repo = "other"
	for _, c := range []struct {
		name      string
		jobs      []Job
		title     string
		wantJob   int64
		byTitle   bool
		titleID   int64
		ambiguous []int64
	}{
		{"the only job that fits by file, branch and time", []Job{job(1, "sync.yml", "refs/heads/main", at(0)), job(2, "other.yml", "main", at(0))}, "", 1, false, 0, nil},
		{"a numeric workflow id matches the run's", []Job{job(3, "55", "main", at(0))}, "", 3, false, 0, nil},
		{"the display_title decides beyond doubt", []Job{job(1, "sync.yml", "main", at(0)), job(2, "sync.yml", "main", at(0))}, " 2 ", 2, true, 0, nil},
		{"two jobs fit and no title: none chosen", []Job{job(1, "sync.yml", "main", at(0)), job(2, "sync.yml", "main", at(0))}, "", 0, false, 0, []int64{1, 2}},
		{"a title naming no waiting job is reported", []Job{job(1, "sync.yml", "main", at(0))}, "42", 1, false, 42, nil},
		{"a run created before the dispatch (beyond skew) is not ours", []Job{job(1, "sync.yml", "main", at(10*time.Second))}, "", 0, false, 0, nil},
		{"within the skew it is", []Job{job(1, "sync.yml", "main", at(4*time.Second))}, "", 1, false, 0, nil},
		{"another branch is not ours", []Job{job(1, "sync.yml", "dev", at(0))}, "", 0, false, 0, nil},
		{"jobs with a run or of another repository are not candidates", []Job{withRun, otherRepo}, "9", 0, false, 9, nil},
		{"never dispatched jobs are not candidates", []Job{job(1, "sync.yml", "main", nil)}, "", 0, false, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run
			r.DisplayTitle = c.title
			got := CorrelateRun(c.jobs, r, 5*time.Second)
			if got.Job.ID != c.wantJob || got.ByTitle != c.byTitle || got.TitleJobID != c.titleID || !slices.Equal(got.Ambiguous, c.ambiguous) {
				t.Fatalf("CorrelateRun = job %d byTitle=%v titleID=%d ambiguous=%v, want job %d byTitle=%v titleID=%d ambiguous=%v",
					got.Job.ID, got.ByTitle, got.TitleJobID, got.Ambiguous, c.wantJob, c.byTitle, c.titleID, c.ambiguous)
			}
		})
	}
}
