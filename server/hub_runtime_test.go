package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestJobRunObservedOncePerJob(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	started := time.Now().Add(-25 * time.Minute)
	ended := started.Add(25 * time.Minute)
	done := core.Job{ID: 7, GroupID: testGroup, Status: core.StatusCompleted, CreatedAt: started.Add(-time.Minute), StartedAt: &started, CompletedAt: &ended}
	never := core.Job{ID: 8, GroupID: testGroup, Status: core.StatusCancelled, CreatedAt: started, CompletedAt: &ended}
	hub := h.srv.Hub()
	hub.JobChanged(done)
	hub.JobChanged(done) // announced again: still one run
	hub.JobChanged(never)
	flushed := make(chan struct{})
	hub.enqueue(func(context.Context) { close(flushed) })
	<-flushed
	m := scrapeMetrics(t, h)
	for _, want := range []string{
		"dispatchoor_job_run_seconds_count 1",
		`dispatchoor_job_run_seconds_bucket{le="1800"} 1`,
		`dispatchoor_job_run_seconds_bucket{le="900"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("scrape lacks %q:\n%s", want, grep(m, "job_run_seconds"))
		}
	}
}
