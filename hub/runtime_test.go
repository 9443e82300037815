package hub

import (
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestJobRunObservedOncePerJob(t *testing.T) {
	m := metrics.New()
	h := New(Options{Store: storetest.SQLite(t), Metrics: m})
	defer h.Close()
	started := time.Now().Add(-25 * time.Minute)
	ended := started.Add(25 * time.Minute)
	done := core.Job{ID: 7, GroupID: "g", Status: core.StatusCompleted, CreatedAt: started.Add(-time.Minute), StartedAt: &started, CompletedAt: &ended}
	never := core.Job{ID: 8, GroupID: "g", Status: core.StatusCancelled, CreatedAt: started, CompletedAt: &ended}
	h.JobChanged(done)
	h.JobChanged(done) // announced again: still one run
	h.JobChanged(never)
	h.Flush()
	text := metricsText(t, m)
	for _, want := range []string{
		"dispatchoor_job_run_seconds_count 1",
		`dispatchoor_job_run_seconds_bucket{le="1800"} 1`,
		`dispatchoor_job_run_seconds_bucket{le="900"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q:\n%s", want, grep(text, "job_run_seconds"))
		}
	}
}
