package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// BenchmarkWorkflowJobIngest posts what the ingest benchmark (tools/bench/ingest.go)
// posts, in process: workflow_job queued, in_progress and completed of runs
// that are not ours, on one known runner, from parallel senders. It isolates
// the endpoint and store from HTTP and the load generator, for profiling:
//
//	go test -run '^$' -bench WorkflowJobIngest -cpuprofile cpu.out ./handlers/
func BenchmarkWorkflowJobIngest(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIngest(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchIngest(b, storetest.Postgres(b)) })
}

func benchIngest(b *testing.B, s *store.Store) {
	h := newHarness(b, s)
	if _, err := s.ReplaceScopeRunners(context.Background(), store.ScopeListing{Scope: "org:acme",
		Runners: []core.Runner{{ID: 7, Name: "runner", Status: core.RunnerOnline, Labels: []string{"self-hosted"}}}}); err != nil {
		b.Fatal(err)
	}
	actions := []string{"queued", "in_progress", "completed"}
	var next atomic.Int64
	b.SetParallelism(8) // 16 senders on 2 cores, as tools/bench/ingest.go runs them
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			w := wjob{Action: actions[i%3], ID: 1_000_000 + i/3, RunID: 2_000_000 + i/3}
			if w.Action != "queued" {
				w.RunnerID, w.RunnerName = 7, "runner"
			}
			if w.Action == "completed" {
				w.Conclusion = "success"
			}
			body, err := json.Marshal(w.payload())
			if err != nil {
				b.Error(err)
				return
			}
			r := h.postAs("workflow_job", fmt.Sprintf("bench-%d", i), body, map[string]string{"X-Hub-Signature-256": sign(secret, body)})
			if r.Status != http.StatusOK {
				b.Errorf("delivery %d: %d %v", i, r.Status, r.Body)
				return
			}
		}
	})
}
