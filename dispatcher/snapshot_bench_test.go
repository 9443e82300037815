package dispatcher

import (
	"context"
	"fmt"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// BenchmarkSnapshot measures one capacity snapshot (what every wake-up
// reads) next to 10,000 runners and 1,000 pending jobs: with the group
// paused (nothing can be dispatched, so nothing more should be read), with
// every runner busy, and with every runner idle.
func BenchmarkSnapshot(b *testing.B) {
	for _, tc := range []struct {
		name   string
		paused bool
		busy   bool
	}{
		{"paused group", true, false},
		{"all runners busy", false, true},
		{"all runners idle", false, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := storetest.SQLite(b)
			ctx := context.Background()
			labels := []string{"self-hosted", "linux", "x64"}
			if _, err := s.SyncConfig(ctx, []core.Group{{ID: "g", Name: "G", RunnerLabels: labels,
				RunnerScope: "org:acme", Paused: tc.paused, Enabled: true}}, nil); err != nil {
				b.Fatal(err)
			}
			if tc.paused {
				if _, err := s.SetGroupPaused(ctx, "g", true); err != nil {
					b.Fatal(err)
				}
			}
			l := store.ScopeListing{Scope: "org:acme"}
			for i := range 10000 {
				l.Runners = append(l.Runners, core.Runner{ID: int64(i + 1), Name: fmt.Sprintf("r-%d", i),
					Scope: "org:acme", Labels: labels, Status: core.RunnerOnline, Busy: tc.busy})
			}
			if _, err := s.ReplaceScopeRunners(ctx, l); err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				if _, err := s.InsertJob(ctx, core.Job{GroupID: "g", Name: fmt.Sprint(i), Owner: "acme",
					Repo: "infra", WorkflowID: "w.yml", Ref: "main", Source: core.JobSourceAPI}, store.Placement{}); err != nil {
					b.Fatal(err)
				}
			}
			q, err := queue.New(queue.Options{Store: s})
			if err != nil {
				b.Fatal(err)
			}
			d, err := New(withConfigDefaults(Options{Store: s, Queue: q, GitHub: nilGitHub{}}))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := d.snapshot(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
