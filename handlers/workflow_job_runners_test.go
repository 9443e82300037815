package handlers_test

import (
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// Every runner whose state a workflow_job delivery changed is announced
// once, after the commit, as it is stored; a delivery that changes no
// runner announces nothing.
func TestWorkflowJobAnnouncesRunnerChanges(t *testing.T) {
	type want struct {
		id     int64
		busy   bool
		job    int64
		status core.RunnerStatus
	}
	cases := []struct {
		name string
		// setup lists runners and posts deliveries whose announcements are
		// not under test.
		setup func(h *harness)
		post  []wjob
		want  []want
	}{
		{
			name: "unknown runner starting a job is announced once, created busy",
			post: []wjob{{Action: "in_progress", ID: 31, RunID: 32, RunnerID: 33}},
			want: []want{{33, true, 31, core.RunnerOnline}},
		},
		{
			name:  "known idle runner going busy is announced once",
			setup: func(h *harness) { h.addRunner(41, false, "self-hosted", "alpha") },
			post:  []wjob{{Action: "in_progress", ID: 42, RunID: 43, RunnerID: 41}},
			want:  []want{{41, true, 42, core.RunnerOnline}},
		},
		{
			name: "persistent runner going idle is announced once",
			setup: func(h *harness) {
				h.addRunner(51, false, "self-hosted", "alpha")
				h.post("workflow_job", wjob{Action: "in_progress", ID: 52, RunID: 53, RunnerID: 51}.payload())
			},
			post: []wjob{{Action: "completed", ID: 52, RunID: 53, RunnerID: 51, Conclusion: "success"}},
			want: []want{{51, false, 0, core.RunnerOnline}},
		},
		{
			name: "ephemeral runner retired is announced offline",
			setup: func(h *harness) {
				h.addRunner(61, true, "self-hosted", "alpha")
				h.post("workflow_job", wjob{Action: "in_progress", ID: 62, RunID: 63, RunnerID: 61}.payload())
			},
			post: []wjob{{Action: "completed", ID: 62, RunID: 63, RunnerID: 61, Conclusion: "success"}},
			want: []want{{61, false, 0, core.RunnerOffline}},
		},
		{
			name: "late completed of an older job changes nothing and announces nothing",
			setup: func(h *harness) {
				h.addRunner(71, false, "self-hosted", "alpha")
				h.post("workflow_job", wjob{Action: "in_progress", ID: 72, RunID: 73, RunnerID: 71}.payload())
				h.post("workflow_job", wjob{Action: "in_progress", ID: 74, RunID: 75, RunnerID: 71}.payload())
			},
			post: []wjob{{Action: "completed", ID: 72, RunID: 73, RunnerID: 71, Conclusion: "success"}},
		},
		{
			name: "stale in_progress after completed announces nothing",
			setup: func(h *harness) {
				h.addRunner(81, false, "self-hosted", "alpha")
				h.post("workflow_job", wjob{Action: "completed", ID: 82, RunID: 83, RunnerID: 81, Conclusion: "success"}.payload())
			},
			post: []wjob{{Action: "in_progress", ID: 82, RunID: 83, RunnerID: 81}},
		},
		{
			name: "queued job touches no runner",
			post: []wjob{{Action: "queued", ID: 91, RunID: 92}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				h := newHarness(t, s)
				if tc.setup != nil {
					tc.setup(h)
				}
				h.f.runnerChanges()
				for _, w := range tc.post {
					h.post("workflow_job", w.payload())
				}
				got := h.f.runnerChanges()
				if len(got) != len(tc.want) {
					t.Fatalf("announced %+v, want %d changes", got, len(tc.want))
				}
				for i, w := range tc.want {
					r := got[i]
					if r.ID != w.id || r.Busy != w.busy || r.CurrentJobID != w.job || r.Status != w.status {
						t.Fatalf("announced %+v, want runner %d busy=%v job=%d %s", r, w.id, w.busy, w.job, w.status)
					}
				}
			})
		})
	}
	t.Run("a redelivered delivery announces nothing again", func(t *testing.T) {
		h := newHarness(t, storetest.SQLite(t))
		h.addRunner(101, false, "self-hosted", "alpha")
		body := wjob{Action: "in_progress", ID: 102, RunID: 103, RunnerID: 101}.payload()
		if r := h.postID("workflow_job", "same-delivery", body); r.Body["outcome"] != "applied" {
			t.Fatalf("first delivery: %v", r)
		}
		if got := h.f.runnerChanges(); len(got) != 1 {
			t.Fatalf("first delivery announced %+v, want one change", got)
		}
		if r := h.postID("workflow_job", "same-delivery", body); r.Body["outcome"] != "duplicate" {
			t.Fatalf("second delivery: %v", r)
		}
		if got := h.f.runnerChanges(); len(got) != 0 {
			t.Fatalf("duplicate delivery announced %+v", got)
		}
	})
}
