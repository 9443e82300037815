package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestInsertJobPlacesTopBottomAndBefore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		j1 := insert(t, s, manualJob("alpha"), store.Placement{})
		j2 := insert(t, s, manualJob("alpha"), store.Placement{Where: store.Bottom})
		j3 := insert(t, s, manualJob("alpha"), store.Placement{Where: store.Top})
		j4 := insert(t, s, manualJob("alpha"), store.Placement{Where: store.Before, Before: j2.ID})
		j5 := insert(t, s, manualJob("alpha"), store.Placement{Where: store.Before, Before: j3.ID})
		want := []int64{j5.ID, j3.ID, j1.ID, j4.ID, j2.ID}
		if got := pendingOrder(t, s, "alpha"); !equalIDs(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
	})
}

func TestInsertJobBeforeAJobThatIsNotPendingInTheGroupIsRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		other := insert(t, s, manualJob("beta"), store.Placement{})
		started := insert(t, s, manualJob("alpha"), store.Placement{})
		walk(t, s, started.ID, core.StatusDispatching)
		for _, c := range []struct {
			name   string
			before int64
			want   error
		}{
			{"job of another group", other.ID, store.ErrConflict},
			{"job that is dispatching", started.ID, store.ErrConflict},
			{"job that does not exist", 99999, store.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.InsertJob(ctx, manualJob("alpha"), store.Placement{Where: store.Before, Before: c.before})
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
			})
		}
		if got := pendingOrder(t, s, "alpha"); len(got) != 0 {
			t.Fatalf("refused inserts left jobs behind: %v", got)
		}
		if _, err := s.InsertJob(ctx, manualJob("gamma"), store.Placement{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("insert into unknown group: %v, want ErrNotFound", err)
		}
	})
}

func TestInsertJobStoresEveryField(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		in := manualJob("alpha")
		in.TemplateID, in.Labels = "a1", map[string]string{"el": "geth"}
		in.AutoRequeue, in.RequeueLimit, in.RequeueCount = true, 3, 1
		in.Source, in.SourceURL = core.JobSourceComment, "https://github.com/o/r/issues/1#issuecomment-2"
		got := insert(t, s, in, store.Placement{})
		if got.ID == 0 || got.Status != core.StatusPending || got.CreatedAt.IsZero() || !got.CreatedAt.Equal(got.UpdatedAt) {
			t.Fatalf("stored job lacks id, status or timestamps: %+v", got)
		}
		in.ID, in.Status, in.Position, in.CreatedAt, in.UpdatedAt = got.ID, got.Status, got.Position, got.CreatedAt, got.UpdatedAt
		if !reflect.DeepEqual(got, in) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, in)
		}
	})
}

func TestMoveJobWritesOneRow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ids := insertN(t, s, "alpha", 6)
		for _, c := range []struct {
			name   string
			job    int64
			before *int64
			want   []int64
		}{
			{"last before first", ids[5], &ids[0], []int64{ids[5], ids[0], ids[1], ids[2], ids[3], ids[4]}},
			{"first to bottom", ids[5], nil, []int64{ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]}},
			{"middle before second", ids[3], &ids[1], []int64{ids[0], ids[3], ids[1], ids[2], ids[4], ids[5]}},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := positions(t, s, "alpha")
				if _, err := s.MoveJob(ctx, c.job, c.before); err != nil {
					t.Fatal(err)
				}
				after := positions(t, s, "alpha")
				changed := 0
				for id, p := range after {
					if before[id] != p {
						changed++
					}
				}
				if changed != 1 {
					t.Fatalf("a move changed %d rows' positions, want 1", changed)
				}
				if got := pendingOrder(t, s, "alpha"); !equalIDs(got, c.want) {
					t.Fatalf("order = %v, want %v", got, c.want)
				}
			})
		}
	})
}

func TestRepeatedMovesIntoTheSameGapRebalanceAndKeepOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ids := insertN(t, s, "alpha", 4)
		// Always move the last job right before the second: the gap between
		// the first job and whatever sits second halves every time, and is
		// exhausted long before 80 moves.
		order := append([]int64{}, ids...)
		for i := range 80 {
			last := order[len(order)-1]
			second := order[1]
			if _, err := s.MoveJob(ctx, last, &second); err != nil {
				t.Fatalf("move %d: %v", i, err)
			}
			order = append([]int64{order[0], last}, order[1:len(order)-1]...)
			if got := pendingOrder(t, s, "alpha"); !equalIDs(got, order) {
				t.Fatalf("after move %d order = %v, want %v", i, got, order)
			}
		}
	})
}

func TestMoveJobRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ids := insertN(t, s, "alpha", 2)
		other := insert(t, s, manualJob("beta"), store.Placement{})
		walk(t, s, ids[1], core.StatusDispatching)
		if _, err := s.MoveJob(ctx, ids[1], nil); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("move a dispatching job: %v, want ErrConflict", err)
		}
		if _, err := s.MoveJob(ctx, ids[0], &other.ID); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("move before a job of another group: %v, want ErrConflict", err)
		}
		if _, err := s.MoveJob(ctx, 424242, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("move unknown job: %v, want ErrNotFound", err)
		}
		if j, err := s.MoveJob(ctx, ids[0], &ids[0]); err != nil || j.ID != ids[0] {
			t.Fatalf("move before itself: %v, want a no-op", err)
		}
	})
}

func TestReorder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ids := insertN(t, s, "alpha", 4)
		walk(t, s, ids[3], core.StatusDispatching)
		other := insert(t, s, manualJob("beta"), store.Placement{})
		for _, c := range []struct {
			name string
			ids  []int64
		}{
			{"a job missing", []int64{ids[2], ids[1]}},
			{"a job listed twice", []int64{ids[2], ids[1], ids[1]}},
			{"a dispatching job listed", []int64{ids[2], ids[1], ids[0], ids[3]}},
			{"a job of another group listed", []int64{ids[2], ids[1], other.ID}},
			{"an unknown id listed", []int64{ids[2], ids[1], 777777}},
		} {
			t.Run("refused with "+c.name, func(t *testing.T) {
				if err := s.Reorder(ctx, "alpha", c.ids); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("err = %v, want ErrConflict", err)
				}
				if got := pendingOrder(t, s, "alpha"); !equalIDs(got, ids[:3]) {
					t.Fatalf("refused reorder changed the order to %v", got)
				}
			})
		}
		want := []int64{ids[2], ids[0], ids[1]}
		if err := s.Reorder(ctx, "alpha", want); err != nil {
			t.Fatal(err)
		}
		if got := pendingOrder(t, s, "alpha"); !equalIDs(got, want) {
			t.Fatalf("order after reorder = %v, want %v", got, want)
		}
	})
}

func TestListQueueShowsActiveThenPendingAndPagesEveryJobOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		ids := insertN(t, s, "alpha", 8)
		walk(t, s, ids[4], core.StatusDispatching, core.StatusTriggered)
		walk(t, s, ids[6], core.StatusDispatching)
		walk(t, s, ids[7], core.StatusDispatching, core.StatusTriggered, core.StatusRunning, core.StatusCompleted)
		insertN(t, s, "beta", 2)
		var got []int64
		for _, j := range queueJobs(t, s, "alpha") { // pages of 3
			got = append(got, j.ID)
		}
		want := []int64{ids[4], ids[6], ids[0], ids[1], ids[2], ids[3], ids[5]}
		if !equalIDs(got, want) {
			t.Fatalf("queue = %v, want %v (active first, then pending in order, no terminal job)", got, want)
		}
		if _, err := s.ListQueue(context.Background(), store.QueueQuery{GroupID: "alpha", Cursor: "garbage!"}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("bad cursor: %v, want ErrInvalid", err)
		}
	})
}

func TestQueueCountsPerGroupAndStatus(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := newTestClock(s)
		seed(t, s)
		ids := insertN(t, s, "alpha", 5)
		if _, err := s.SetJobPaused(ctx, ids[0], true); err != nil {
			t.Fatal(err)
		}
		later := clock.Now().Add(60e9)
		if _, err := s.SetDispatchAfter(ctx, ids[1], &later); err != nil {
			t.Fatal(err)
		}
		walk(t, s, ids[4], core.StatusDispatching)
		walk(t, s, insertN(t, s, "beta", 1)[0], core.StatusDispatching, core.StatusFailed)
		got, err := s.QueueCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.QueueCount{
			{GroupID: "alpha", Status: core.StatusDispatching, Count: 1},
			{GroupID: "alpha", Status: core.StatusPending, Count: 4, Paused: 1, Dispatchable: 2},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
	})
}

func TestListQueuePagesOfEverySizeCrossFromActiveToPendingJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		ids := insertN(t, s, "alpha", 7)
		walk(t, s, ids[5], core.StatusDispatching)
		walk(t, s, ids[2], core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
		walk(t, s, ids[4], core.StatusDispatching, core.StatusTriggered)
		want := []int64{ids[2], ids[4], ids[5], ids[0], ids[1], ids[3], ids[6]}
		for limit := 1; limit <= len(want)+1; limit++ {
			var got []int64
			cursor := ""
			for range len(want) + 1 {
				page, err := s.ListQueue(context.Background(), store.QueueQuery{GroupID: "alpha", Cursor: cursor, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) > limit {
					t.Fatalf("limit %d: page of %d", limit, len(page.Items))
				}
				for _, j := range page.Items {
					got = append(got, j.ID)
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if !equalIDs(got, want) {
				t.Fatalf("pages of %d: %v, want %v", limit, got, want)
			}
		}
	})
}
