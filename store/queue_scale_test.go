package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// seedQueue appends n jobs to the bottom of group in one transaction.
func seedQueue(t *testing.T, s *store.Store, group string, n int) []int64 {
	t.Helper()
	ids := make([]int64, 0, n)
	err := s.InTx(context.Background(), func(q *store.Q) error {
		for range n {
			j, err := q.InsertJob(context.Background(), manualJob(group), store.Placement{})
			if err != nil {
				return err
			}
			ids = append(ids, j.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed %d jobs: %v", n, err)
	}
	return ids
}

// rawPositions reads every pending job's stored position of group straight
// from the table: cheap enough to snapshot a 5,000-job queue per move.
func rawPositions(t *testing.T, s *store.Store, group string) map[int64]float64 {
	t.Helper()
	rows, err := s.DB().Query(s.DB().Rebind("SELECT id, position FROM jobs WHERE group_id = ? AND status = 'pending'"), group)
	if err != nil {
		t.Fatalf("read positions: %v", err)
	}
	defer rows.Close()
	m := map[int64]float64{}
	for rows.Next() {
		var id int64
		var p float64
		if err := rows.Scan(&id, &p); err != nil {
			t.Fatalf("read positions: %v", err)
		}
		m[id] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read positions: %v", err)
	}
	return m
}

func changedRows(before, after map[int64]float64) int {
	n := 0
	for id, p := range after {
		if old, ok := before[id]; !ok || old != p {
			n++
		}
	}
	return n
}

// fullOrder lists a group's pending job ids in queue order through
// ListQueue, in pages of 1000.
func fullOrder(t *testing.T, s *store.Store, group string) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for {
		page, err := s.ListQueue(context.Background(), store.QueueQuery{GroupID: group, Cursor: cursor, Limit: 1000})
		if err != nil {
			t.Fatalf("list queue: %v", err)
		}
		for _, j := range page.Items {
			ids = append(ids, j.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// moveBefore is the slice model of MoveJob: job leaves its place and goes
// right before anchor (or to the end when anchor is 0).
func moveBefore(order []int64, job, anchor int64) []int64 {
	out := slices.DeleteFunc(slices.Clone(order), func(id int64) bool { return id == job })
	if anchor == 0 {
		return append(out, job)
	}
	return slices.Insert(out, slices.Index(out, anchor), job)
}

func TestMovesIntoTheSameGapRespaceAWindowNotTheQueue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		const queueLen, moves = 5000, 200
		order := seedQueue(t, s, "alpha", queueLen)
		anchor := order[queueLen/2]
		// The moved job plus a window on each side of the gap, and that
		// must stay far from the whole queue.
		bound := 2*store.RespaceWindow + 1
		if bound > queueLen/20 {
			t.Fatalf("a respacing may write %d rows, not local in a %d-job queue", bound, queueLen)
		}
		pos := rawPositions(t, s, "alpha")
		respaced, most := 0, 0
		for i := range moves {
			job := order[len(order)-1]
			if _, err := s.MoveJob(ctx, job, &anchor); err != nil {
				t.Fatalf("move %d: %v", i, err)
			}
			order = moveBefore(order, job, anchor)
			after := rawPositions(t, s, "alpha")
			n := changedRows(pos, after)
			if n > bound {
				t.Fatalf("move %d rewrote %d rows of a %d-job queue, want at most %d", i, n, queueLen, bound)
			}
			if n > 1 {
				respaced++
			}
			most = max(most, n)
			pos = after
		}
		t.Logf("%d moves into one gap: %d respaced, at most %d rows written by one", moves, respaced, most)
		// 200 halvings of one gap exhaust it several times over: a run
		// that never respaced would not have tested anything.
		if respaced == 0 {
			t.Fatalf("%d moves into one gap never respaced", moves)
		}
		if got := fullOrder(t, s, "alpha"); !slices.Equal(got, order) {
			t.Fatalf("order after %d moves differs from the model", moves)
		}
	})
}

// queueOp is one step of the model test, applied to the store and to the
// slice model alike.
type queueOp func(t *testing.T, s *store.Store, order []int64) []int64

func insertAt(at store.Placement) queueOp {
	return func(t *testing.T, s *store.Store, order []int64) []int64 {
		j := insert(t, s, manualJob("alpha"), at)
		switch at.Where {
		case store.Top:
			return append([]int64{j.ID}, order...)
		case store.Before:
			return slices.Insert(slices.Clone(order), slices.Index(order, at.Before), j.ID)
		default:
			return append(order, j.ID)
		}
	}
}

func move(job, anchor int64) queueOp {
	return func(t *testing.T, s *store.Store, order []int64) []int64 {
		var before *int64
		if anchor != 0 {
			before = &anchor
		}
		if _, err := s.MoveJob(context.Background(), job, before); err != nil {
			t.Fatalf("move %d before %d: %v", job, anchor, err)
		}
		if job == anchor {
			return order
		}
		return moveBefore(order, job, anchor)
	}
}

// runModel applies steps drawn by next to the store and the model and
// compares the queue order after every step. It returns how many steps
// rewrote more than one row.
func runModel(t *testing.T, s *store.Store, order []int64, steps int, next func(order []int64) queueOp) int {
	t.Helper()
	respaced := 0
	pos := rawPositions(t, s, "alpha")
	for i := range steps {
		order = next(order)(t, s, order)
		if got := fullOrder(t, s, "alpha"); !slices.Equal(got, order) {
			t.Fatalf("step %d: order = %v, model = %v", i, got, order)
		}
		after := rawPositions(t, s, "alpha")
		if changedRows(pos, after) > 1 {
			respaced++
		}
		pos = after
	}
	return respaced
}

func TestQueueOrderMatchesASliceModelUnderRandomPlacements(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		order := seedQueue(t, s, "alpha", 200)
		rng := rand.New(rand.NewPCG(9, 5))
		// Most placements go before one of three hot jobs, so their gaps
		// crowd and respace again and again among random traffic.
		hot := []int64{order[1], order[100]}
		respaced := runModel(t, s, order, 400, func(order []int64) queueOp {
			anchor := hot[rng.IntN(len(hot))]
			if rng.IntN(8) == 0 {
				anchor = order[rng.IntN(len(order))]
			}
			job := order[rng.IntN(len(order))]
			switch rng.IntN(10) {
			case 0:
				return insertAt(store.Placement{Where: store.Top})
			case 1:
				return insertAt(store.Placement{Where: store.Bottom})
			case 2:
				return insertAt(store.Placement{Where: store.Before, Before: anchor})
			case 3:
				return move(job, 0)
			default:
				return move(job, anchor)
			}
		})
		t.Logf("%d of 400 steps respaced", respaced)
		if respaced == 0 {
			t.Fatal("no step respaced: the hot spots never crowded")
		}
	})
}

func TestCrowdingAtTheEdgesAndInTinyQueues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		jobs int
		// next picks the step from the current order.
		next func(order []int64) queueOp
		// respaces says whether the steps must crowd a gap.
		respaces bool
	}{
		{"moves between the first two jobs respace up to the top", 100,
			func(o []int64) queueOp { return move(o[len(o)-1], o[1]) }, true},
		{"inserts before the last job respace down to the bottom", 100,
			func(o []int64) queueOp {
				return insertAt(store.Placement{Where: store.Before, Before: o[len(o)-1]})
			}, true},
		{"moves before the last job respace down to the bottom", 100,
			func(o []int64) queueOp { return move(o[0], o[len(o)-1]) }, true},
		{"three jobs swapping the last two crowd the gap after the first", 3,
			func(o []int64) queueOp { return move(o[2], o[1]) }, true},
		{"two jobs swapping never crowd", 2,
			func(o []int64) queueOp { return move(o[1], o[0]) }, false},
		{"one job moved before itself and to the bottom", 1,
			func(o []int64) queueOp { return move(o[0], o[0]) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				seed(t, s)
				order := seedQueue(t, s, "alpha", c.jobs)
				respaced := runModel(t, s, order, 90, c.next)
				if c.respaces && respaced == 0 {
					t.Fatal("90 steps into one gap never respaced")
				}
				if !c.respaces && respaced > 0 {
					t.Fatalf("%d steps rewrote more than the moved job", respaced)
				}
			})
		})
	}
}

func TestTiesOnPositionAreOrderedByIDAndSurviveRespacing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seed(t, s)
		order := seedQueue(t, s, "alpha", 40)
		// Every job on one position: order falls back to id alone, and any
		// placement between two of them needs a respacing at once.
		if _, err := s.DB().Exec(s.DB().Rebind("UPDATE jobs SET position = ? WHERE group_id = ?"), 7.0, "alpha"); err != nil {
			t.Fatal(err)
		}
		if got := fullOrder(t, s, "alpha"); !slices.Equal(got, order) {
			t.Fatalf("tied order = %v, want by id %v", got, order)
		}
		anchor := order[20]
		respaced := runModel(t, s, order, 30, func(o []int64) queueOp {
			return insertAt(store.Placement{Where: store.Before, Before: anchor})
		})
		if respaced == 0 {
			t.Fatal("placing between tied jobs never respaced")
		}
	})
}

func TestConcurrentMovesIntoOneGapLeaveNoTies(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ids := seedQueue(t, s, "alpha", 200)
		anchor := ids[100]
		var wg sync.WaitGroup
		errs := make(chan error, 4*40)
		for w := range 4 {
			wg.Go(func() {
				for i := range 40 {
					job := ids[w*40+i]
					if job == anchor {
						continue
					}
					if _, err := s.MoveJob(ctx, job, &anchor); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent move: %v", err)
		}
		// Two moves that computed a position from the same stale neighbours
		// would share it; the group lock must prevent that.
		seen := map[float64]int64{}
		for id, p := range rawPositions(t, s, "alpha") {
			if other, dup := seen[p]; dup {
				t.Fatalf("jobs %d and %d share position %v", id, other, p)
			}
			seen[p] = id
		}
		got := fullOrder(t, s, "alpha")
		if len(got) != len(ids) || got[len(got)-1] != ids[len(ids)-1] {
			t.Fatalf("queue has %d jobs ending with %d, want %d ending with %d", len(got), got[len(got)-1], len(ids), ids[len(ids)-1])
		}
		if i := slices.Index(got, anchor); i != 160-1 {
			t.Fatalf("anchor is at %d, want right after the 159 moved jobs and ids[160:] after it", i)
		}
	})
}

func TestDenseStretchesWidenTheWindow(t *testing.T) {
	t.Parallel()
	w := store.RespaceWindow
	for _, c := range []struct {
		name string
		// dense says which of the 300 jobs sit 1e-7 apart; the others are
		// positionGap apart.
		dense func(i int) bool
		// minRows and maxRows bound the rows one insert into the middle of
		// the dense stretch rewrites (the new job included).
		minRows, maxRows int
	}{
		{"a dense stretch of 100 widens the window once", func(i int) bool { return i >= 100 && i < 200 }, 2*w + 2, 4*w + 1},
		// The first job already sits at positionGap, where a renumbering puts it.
		{"a queue dense everywhere is renumbered whole", func(int) bool { return true }, 300, 301},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				seed(t, s)
				order := seedQueue(t, s, "alpha", 300)
				p := 0.0
				for i, id := range order {
					if i > 0 && c.dense(i) && c.dense(i-1) {
						p += 1e-7
					} else {
						p += 1024
					}
					if _, err := s.DB().Exec(s.DB().Rebind("UPDATE jobs SET position = ? WHERE id = ?"), p, id); err != nil {
						t.Fatal(err)
					}
				}
				before := rawPositions(t, s, "alpha")
				order = insertAt(store.Placement{Where: store.Before, Before: order[150]})(t, s, order)
				if got := fullOrder(t, s, "alpha"); !slices.Equal(got, order) {
					t.Fatalf("order after respacing a dense stretch differs from the model")
				}
				if n := changedRows(before, rawPositions(t, s, "alpha")); n < c.minRows || n > c.maxRows {
					t.Fatalf("one insert rewrote %d rows, want %d to %d", n, c.minRows, c.maxRows)
				}
			})
		})
	}
}
