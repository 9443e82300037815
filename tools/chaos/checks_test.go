package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// settle switches faults off and reconciles until no job of the group is
// live any more, or fails the test after timeout listing what is stuck.
func settle(ctx context.Context, t *testing.T, sim *ghsim.Sim, c *client, base func() string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	sim.SetFaults(ghsim.Faults{})
	var active []job
	var err error
	lastRefresh, lastLog := time.Time{}, time.Now()
	for time.Since(start) < timeout {
		if time.Since(lastRefresh) > 5*time.Second {
			// One reconcile repairs what dropped webhooks hid; the
			// product's own reconcile_interval would get there as well.
			if err := c.refresh(ctx, base()); err != nil {
				t.Logf("refresh: %v", err)
			}
			lastRefresh = time.Now()
		}
		active, err = c.activeJobs(ctx, base())
		if err == nil && len(active) == 0 {
			return time.Since(start)
		}
		if time.Since(lastLog) > 10*time.Second {
			t.Logf("settling %s: live jobs by status %v", time.Since(start).Round(time.Second), countByStatus(active))
			lastLog = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	byStatus := map[string][]int64{}
	for _, j := range active {
		byStatus[j.Status] = append(byStatus[j.Status], j.ID)
	}
	t.Fatalf("not settled %s after faults were switched off: %d live jobs by status %v (last error %v)", timeout, len(active), byStatus, err)
	return 0
}

func countByStatus(js []job) map[string]int {
	out := map[string]int{}
	for _, j := range js {
		out[j.Status]++
	}
	return out
}

// verdict is what the end-of-run checks found.
type verdict struct {
	Jobs             int
	Lost             []int64          // enqueued, but unknown to the API
	NotCompleted     map[int64]string // id -> status/conclusion/error
	DoubleRuns       map[int64]int    // job id -> runs on GitHub, when > 1
	DoublePOSTs      map[int64]int    // job id -> successful dispatch POSTs, when > 1
	RunMismatch      []string         // our run id is not GitHub's run for the job
	StrayRuns        int              // runs whose title names no job of ours
	RunnerDiffs      []string
	DispatchPOSTs    int // all dispatch POSTs, failed ones included
	DispatchOK       int
	Faulted5xx       int
	Faulted429       int
	HooksSent        int
	HooksDropped     int
	HooksDuplicated  int
	HooksFailed      int // the receiver was down or refused
	HooksRedelivered int
}

func (v verdict) ok() bool {
	return len(v.Lost) == 0 && len(v.NotCompleted) == 0 && len(v.DoubleRuns) == 0 && len(v.DoublePOSTs) == 0 &&
		len(v.RunMismatch) == 0 && v.StrayRuns == 0 && len(v.RunnerDiffs) == 0
}

// check reads every enqueued job back, counts runs and dispatch requests per
// job id on the simulator (the dispatchoor_job_id input is the run name),
// and compares runners after one reconcile.
func check(ctx context.Context, t *testing.T, sim *ghsim.Sim, c *client, base string, ids []int64) verdict {
	t.Helper()
	v := verdict{Jobs: len(ids), NotCompleted: map[int64]string{}, DoubleRuns: map[int64]int{}, DoublePOSTs: map[int64]int{}}

	runs := map[int64][]int64{} // job id -> GitHub run ids
	for _, r := range sim.Runs() {
		id, err := strconv.ParseInt(r.DisplayTitle, 10, 64)
		if err != nil {
			v.StrayRuns++
			continue
		}
		runs[id] = append(runs[id], r.ID)
	}
	posts := map[int64]int{}
	for _, r := range sim.Requests(func(r ghsim.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/dispatches")
	}) {
		v.DispatchPOSTs++
		if r.Status >= 300 {
			continue
		}
		v.DispatchOK++
		var body struct {
			Inputs map[string]string `json:"inputs"`
		}
		if err := json.Unmarshal(r.RequestBody, &body); err != nil {
			t.Errorf("dispatch body %q: %v", r.RequestBody, err)
			continue
		}
		id, err := strconv.ParseInt(body.Inputs["dispatchoor_job_id"], 10, 64)
		if err != nil {
			t.Errorf("dispatch without a job id input: %q", r.RequestBody)
			continue
		}
		posts[id]++
	}
	for _, r := range sim.Requests(nil) {
		switch r.Status {
		case http.StatusBadGateway, http.StatusServiceUnavailable:
			v.Faulted5xx++
		case http.StatusTooManyRequests:
			v.Faulted429++
		}
	}
	for _, d := range sim.Deliveries() {
		v.HooksSent++
		if d.Dropped {
			v.HooksDropped++
		}
		if d.Duplicated {
			v.HooksDuplicated++
		}
		if d.Redelivery {
			v.HooksRedelivered++
		} else if !d.Dropped && !d.Delivered {
			v.HooksFailed++
		}
	}

	known := map[int64]bool{}
	for _, id := range ids {
		known[id] = true
		j, err := c.job(ctx, base, id)
		if err != nil {
			v.Lost = append(v.Lost, id)
			continue
		}
		if j.Status != "completed" || j.Conclusion != "success" {
			v.NotCompleted[id] = fmt.Sprintf("%s/%s %s", j.Status, j.Conclusion, j.Error)
		}
		if n := len(runs[id]); n > 1 {
			v.DoubleRuns[id] = n
		} else if j.RunID == 0 || n == 0 || runs[id][0] != j.RunID {
			// Every job ends completed here, so each must name the one
			// run GitHub has for it.
			v.RunMismatch = append(v.RunMismatch, fmt.Sprintf("job %d: run %d, GitHub has %v", id, j.RunID, runs[id]))
		}
		if posts[id] > 1 {
			v.DoublePOSTs[id] = posts[id]
		}
	}
	for id := range runs {
		if !known[id] {
			v.StrayRuns++
		}
	}

	if err := sim.WaitIdle(ctx); err != nil {
		t.Fatalf("wait for webhooks: %v", err)
	}
	if err := c.refresh(ctx, base); err != nil {
		t.Fatalf("final reconcile: %v", err)
	}
	v.RunnerDiffs = compareRunners(ctx, t, sim, c, base)
	return v
}

func compareRunners(ctx context.Context, t *testing.T, sim *ghsim.Sim, c *client, base string) []string {
	t.Helper()
	ours, err := c.runners(ctx, base)
	if err != nil {
		t.Fatalf("list runners: %v", err)
	}
	byName := map[string]apiRunner{}
	for _, r := range ours {
		byName[r.Name] = r
	}
	var diffs []string
	for _, g := range sim.Runners() {
		o, ok := byName[g.Name]
		want := "offline"
		if g.Online {
			want = "online"
		}
		switch {
		case !ok:
			diffs = append(diffs, g.Name+": unknown to dispatchoor")
		case o.Status != want || o.Busy != g.Busy:
			diffs = append(diffs, fmt.Sprintf("%s: dispatchoor %s busy=%v, GitHub %s busy=%v", g.Name, o.Status, o.Busy, want, g.Busy))
		}
		delete(byName, g.Name)
	}
	for name := range byName {
		diffs = append(diffs, name+": unknown to GitHub")
	}
	slices.Sort(diffs)
	return diffs
}

func (v verdict) report(t *testing.T) {
	t.Helper()
	t.Logf("jobs %d: lost %d, not completed %d, dispatched twice %d (runs) / %d (POSTs), run mismatches %d, stray runs %d, runner diffs %d",
		v.Jobs, len(v.Lost), len(v.NotCompleted), len(v.DoubleRuns), len(v.DoublePOSTs), len(v.RunMismatch), v.StrayRuns, len(v.RunnerDiffs))
	t.Logf("dispatch POSTs %d (%d accepted), REST faults 5xx %d / 429 %d; webhooks %d (%d dropped, %d duplicated, %d failed while the receiver was down, %d redeliveries)",
		v.DispatchPOSTs, v.DispatchOK, v.Faulted5xx, v.Faulted429, v.HooksSent, v.HooksDropped, v.HooksDuplicated, v.HooksFailed, v.HooksRedelivered)
	if v.ok() {
		return
	}
	t.Errorf("lost jobs: %v", v.Lost)
	t.Errorf("jobs not completed/success: %v", v.NotCompleted)
	t.Errorf("jobs with more than one run: %v; with more than one accepted dispatch: %v", v.DoubleRuns, v.DoublePOSTs)
	t.Errorf("run mismatches: %v; stray runs: %d", v.RunMismatch, v.StrayRuns)
	t.Errorf("runner differences after one reconcile: %v", v.RunnerDiffs)
}
