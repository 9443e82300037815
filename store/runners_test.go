package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func runner(id int64, labels ...string) core.Runner {
	return core.Runner{ID: id, Name: "r" + string(rune('a'+id%26)), Status: core.RunnerOnline, Labels: labels}
}

func runnerIDs(t *testing.T, s *store.Store, scope string) []int64 {
	t.Helper()
	rs, err := s.ListRunners(context.Background(), store.RunnerFilter{Scope: scope})
	if err != nil {
		t.Fatalf("list runners: %v", err)
	}
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

func mustReplace(t *testing.T, s *store.Store, l store.ScopeListing) store.RunnerChanges {
	t.Helper()
	ch, err := s.ReplaceScopeRunners(context.Background(), l)
	if err != nil {
		t.Fatalf("replace %s: %v", l.Scope, err)
	}
	return ch
}

func TestReplaceScopeRunners(t *testing.T) {
	t.Parallel()
	const orgA, orgB = "org:alpha", "org:beta"
	cases := []struct {
		name string
		// setup runs before the listing under test.
		setup   func(t *testing.T, s *store.Store)
		listing store.ScopeListing
		want    store.RunnerChanges
		// check asserts the stored state afterwards.
		check func(t *testing.T, s *store.Store)
	}{
		{
			name:    "first listing adds every runner with normalised labels",
			listing: store.ScopeListing{Scope: orgA, InstallationID: 7, Runners: []core.Runner{runner(2, "Self-Hosted", "GPU", "gpu"), runner(1)}},
			want:    store.RunnerChanges{Added: []int64{1, 2}},
			check: func(t *testing.T, s *store.Store) {
				r, err := s.GetRunner(context.Background(), 2)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(r.Labels, []string{"self-hosted", "gpu"}) || r.Scope != orgA || r.InstallationID != 7 {
					t.Fatalf("runner 2 = %+v, want normalised labels, scope %s, installation 7", r, orgA)
				}
			},
		},
		{
			name: "vanished runner is removed from its scope only",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1), runner(2)}})
				mustReplace(t, s, store.ScopeListing{Scope: orgB, Runners: []core.Runner{runner(3)}})
			},
			listing: store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}},
			want:    store.RunnerChanges{Removed: []int64{2}},
			check: func(t *testing.T, s *store.Store) {
				if got := runnerIDs(t, s, orgB); !slices.Equal(got, []int64{3}) {
					t.Fatalf("runners of %s = %v, want [3] untouched", orgB, got)
				}
				if got := runnerIDs(t, s, orgA); !slices.Equal(got, []int64{1}) {
					t.Fatalf("runners of %s = %v, want [1]", orgA, got)
				}
			},
		},
		{
			name: "empty listing empties the scope",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1), runner(2)}})
			},
			listing: store.ScopeListing{Scope: orgA},
			want:    store.RunnerChanges{Removed: []int64{1, 2}},
		},
		{
			name: "only runners whose state changed are reported as updated",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1, "a"), runner(2, "a"), runner(3, "a")}})
			},
			listing: store.ScopeListing{Scope: orgA, Runners: []core.Runner{
				runner(1, "A"), // same labels after normalisation
				runner(2, "a", "b"),
				{ID: 3, Name: runner(3).Name, Status: core.RunnerOffline, Labels: []string{"a"}},
			}},
			want: store.RunnerChanges{Updated: []int64{2, 3}},
		},
		{
			name: "busy runner keeps the job a webhook told us about",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}})
				if _, err := s.MarkRunnerBusy(context.Background(), 1, 500); err != nil {
					t.Fatal(err)
				}
			},
			listing: store.ScopeListing{Scope: orgA, Runners: []core.Runner{{ID: 1, Name: runner(1).Name, Status: core.RunnerOnline, Busy: true}}},
			check: func(t *testing.T, s *store.Store) {
				assertRunnerState(t, s, 1, true, 500)
				if _, freed, err := s.FreeRunnerOfJob(context.Background(), 1, 500); err != nil || !freed {
					t.Fatalf("completed of the kept job did not free the runner: freed=%v err=%v", freed, err)
				}
			},
		},
		{
			name: "idle listing clears a finished job",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}})
				if _, err := s.MarkRunnerBusy(context.Background(), 1, 500); err != nil {
					t.Fatal(err)
				}
			},
			listing: store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}},
			want:    store.RunnerChanges{Updated: []int64{1}},
			check:   func(t *testing.T, s *store.Store) { assertRunnerState(t, s, 1, false, 0) },
		},
		{
			name: "listing older than a busy webhook does not free the runner",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}})
				if _, err := s.MarkRunnerBusy(context.Background(), 1, 500); err != nil {
					t.Fatal(err)
				}
			},
			listing: store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}, ListedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
			check:   func(t *testing.T, s *store.Store) { assertRunnerState(t, s, 1, true, 500) },
		},
		{
			name: "runner first seen after the listing was taken is not removed",
			setup: func(t *testing.T, s *store.Store) {
				if _, err := s.UpsertRunnerSeen(context.Background(), store.RunnerRecord{Runner: core.Runner{ID: 9, Name: "eph", Scope: orgA, Ephemeral: true}}); err != nil {
					t.Fatal(err)
				}
			},
			listing: store.ScopeListing{Scope: orgA, Runners: []core.Runner{runner(1)}, ListedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
			want:    store.RunnerChanges{Added: []int64{1}},
			check: func(t *testing.T, s *store.Store) {
				if got := runnerIDs(t, s, orgA); !slices.Equal(got, []int64{1, 9}) {
					t.Fatalf("runners = %v, want [1 9]", got)
				}
			},
		},
		{
			name: "runner moved from a guessed scope keeps a busy state newer than the listing",
			setup: func(t *testing.T, s *store.Store) {
				// A webhook guessed the org scope; the runner is really a repo runner.
				if _, err := s.UpsertRunnerSeen(context.Background(), store.RunnerRecord{Runner: core.Runner{ID: 1, Name: "r", Scope: orgA}}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.MarkRunnerBusy(context.Background(), 1, 600); err != nil {
					t.Fatal(err)
				}
			},
			listing: store.ScopeListing{Scope: "repo:alpha/app", Runners: []core.Runner{runner(1, "x")}, ListedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
			want:    store.RunnerChanges{Added: []int64{1}},
			check: func(t *testing.T, s *store.Store) {
				assertRunnerState(t, s, 1, true, 600)
				if r, _ := s.GetRunner(context.Background(), 1); r.Scope != "repo:alpha/app" || !slices.Equal(r.Labels, []string{"x"}) {
					t.Fatalf("runner = %+v, want moved to repo:alpha/app with labels [x]", r)
				}
			},
		},
		{
			name: "runner re-registered under another scope moves there",
			setup: func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: orgB, Runners: []core.Runner{runner(1)}})
			},
			listing: store.ScopeListing{Scope: "repo:alpha/app", Runners: []core.Runner{runner(1)}},
			want:    store.RunnerChanges{Added: []int64{1}},
			check: func(t *testing.T, s *store.Store) {
				if got := runnerIDs(t, s, orgB); len(got) != 0 {
					t.Fatalf("runners of %s = %v, want none", orgB, got)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				if tc.setup != nil {
					tc.setup(t, s)
				}
				got := mustReplace(t, s, tc.listing)
				if !equalChanges(got, tc.want) {
					t.Fatalf("changes = %+v, want %+v", got, tc.want)
				}
				if tc.check != nil {
					tc.check(t, s)
				}
			})
		})
	}
}

func equalChanges(a, b store.RunnerChanges) bool {
	return slices.Equal(a.Added, b.Added) && slices.Equal(a.Updated, b.Updated) && slices.Equal(a.Removed, b.Removed)
}

func assertRunnerState(t *testing.T, s *store.Store, id int64, busy bool, job int64) {
	t.Helper()
	r, err := s.GetRunner(context.Background(), id)
	if err != nil {
		t.Fatalf("get runner %d: %v", id, err)
	}
	if r.Busy != busy || r.CurrentJobID != job {
		t.Fatalf("runner %d busy=%v job=%d, want busy=%v job=%d", id, r.Busy, r.CurrentJobID, busy, job)
	}
}

func TestReplaceScopeRunnersRefusesBadListings(t *testing.T) {
	t.Parallel()
	cases := map[string]store.ScopeListing{
		"scope without kind":         {Scope: "alpha"},
		"unknown scope kind":         {Scope: "enterprise:x"},
		"repo scope without owner":   {Scope: "repo:app"},
		"runner listed twice":        {Scope: "org:a", Runners: []core.Runner{runner(1), runner(1)}},
		"runner of another scope":    {Scope: "org:a", Runners: []core.Runner{{ID: 1, Scope: "org:b", Status: core.RunnerOnline}}},
		"status GitHub never sends":  {Scope: "org:a", Runners: []core.Runner{{ID: 1, Status: "idle"}}},
		"runner without a GitHub id": {Scope: "org:a", Runners: []core.Runner{{Status: core.RunnerOnline}}},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		mustReplace(t, s, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{runner(5)}})
		for name, l := range cases {
			t.Run(name, func(t *testing.T) {
				if _, err := s.ReplaceScopeRunners(context.Background(), l); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				if got := runnerIDs(t, s, "org:a"); !slices.Equal(got, []int64{5}) {
					t.Fatalf("a refused listing changed the scope: %v", got)
				}
			})
		}
	})
}

func TestRunnerBusyAndIdleFollowJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type step struct {
		op     string // busy | idle | completed (GitHub job completed)
		job    int64
		wantOK bool
	}
	cases := []struct {
		name     string
		steps    []step
		wantBusy bool
		wantJob  int64
	}{
		{"completed of the current job frees the runner",
			[]step{{"busy", 1, true}, {"idle", 1, true}}, false, 0},
		{"late completed for an older job does not free a runner busy with a newer job",
			[]step{{"busy", 1, true}, {"busy", 2, true}, {"idle", 1, false}}, true, 2},
		{"completed before in_progress leaves runner idle",
			[]step{{"completed", 3, true}, {"idle", 3, false}, {"busy", 3, false}}, false, 0},
		{"completed twice frees once",
			[]step{{"busy", 4, true}, {"idle", 4, true}, {"idle", 4, false}}, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				mustReplace(t, s, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{runner(1)}})
				for i, st := range tc.steps {
					var (
						ok  bool
						err error
					)
					switch st.op {
					case "busy":
						ok, err = s.MarkRunnerBusy(ctx, 1, st.job)
					case "idle":
						_, ok, err = s.FreeRunnerOfJob(ctx, 1, st.job)
					case "completed":
						ok, err = s.ApplyGitHubJob(ctx, ghJob(st.job, store.GitHubJobCompleted))
					}
					if err != nil || ok != st.wantOK {
						t.Fatalf("step %d %s job %d: ok=%v err=%v, want ok=%v", i, st.op, st.job, ok, err, st.wantOK)
					}
				}
				assertRunnerState(t, s, 1, tc.wantBusy, tc.wantJob)
			})
		})
	}
}

func TestUpsertRunnerSeen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		rec := store.RunnerRecord{Runner: core.Runner{ID: 42, Name: "eph-1", Scope: "org:a", Ephemeral: true}, InstallationID: 3}
		created, err := s.UpsertRunnerSeen(ctx, rec)
		if err != nil || !created {
			t.Fatalf("first sighting: created=%v err=%v, want created", created, err)
		}
		got, err := s.GetRunner(ctx, 42)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Idle() || !got.Ephemeral || got.InstallationID != 3 || len(got.Labels) != 0 {
			t.Fatalf("new runner = %+v, want online idle ephemeral without labels", got)
		}

		// Once the reconciler listed its labels, a sighting must not wipe them.
		mustReplace(t, s, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{{ID: 42, Name: "eph-1", Status: core.RunnerOnline, Ephemeral: true, Labels: []string{"x"}}}})
		created, err = s.UpsertRunnerSeen(ctx, rec)
		if err != nil || created {
			t.Fatalf("second sighting: created=%v err=%v, want not created", created, err)
		}
		if got, _ := s.GetRunner(ctx, 42); !slices.Equal(got.Labels, []string{"x"}) {
			t.Fatalf("labels after sighting = %v, want [x] kept", got.Labels)
		}

		if _, err := s.UpsertRunnerSeen(ctx, store.RunnerRecord{Runner: core.Runner{ID: 43, Scope: "nowhere"}}); !errors.Is(err, store.ErrInvalid) {
			t.Fatal("runner with a bad scope accepted")
		}
		if _, err := s.MarkRunnerBusy(ctx, 999, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("busy on unknown runner: err=%v, want ErrNotFound", err)
		}
		if _, freed, err := s.FreeRunnerOfJob(ctx, 999, 1); err != nil || freed {
			t.Fatalf("idle on unknown runner: freed=%v err=%v, want a no-op", freed, err)
		}
	})
}

func TestListAndRemoveRunners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		mustReplace(t, s, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{runner(1), runner(2)}})
		mustReplace(t, s, store.ScopeListing{Scope: "repo:b/c", Runners: []core.Runner{runner(3)}})
		if got := runnerIDs(t, s, ""); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Fatalf("all runners = %v", got)
		}
		if got := runnerIDs(t, s, "repo:b/c"); !slices.Equal(got, []int64{3}) {
			t.Fatalf("runners of repo:b/c = %v", got)
		}
		if err := s.RemoveRunner(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveRunner(ctx, 2); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second remove: %v, want ErrNotFound", err)
		}
		if _, err := s.GetRunner(ctx, 2); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get removed runner: %v, want ErrNotFound", err)
		}
		rs, _ := s.ListRunners(ctx, store.RunnerFilter{})
		if got := store.CoreRunners(rs); len(got) != 2 || got[0].ID != 1 {
			t.Fatalf("core runners = %+v", got)
		}
	})
}

func TestReplaceScopeRunnersJoinsCallerTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		boom := errors.New("boom")
		err := s.InTx(ctx, func(q *store.Q) error {
			if _, err := q.ReplaceScopeRunners(ctx, store.ScopeListing{Scope: "org:a", Runners: []core.Runner{runner(1)}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if got := runnerIDs(t, s, ""); len(got) != 0 {
			t.Fatalf("rolled back listing left runners %v", got)
		}
	})
}
