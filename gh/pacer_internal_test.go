package gh

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// When the content budget is spent, the next slot goes to a dispatch before
// comments and reactions, and to those before background writes, each
// priority in arrival order.
func TestPacerGivesTheNextSlotToDispatchesFirst(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	p := newPacer(nil, PaceLimits{ContentPerMinute: 1}, clk.Now, nil)
	const path = "/repos/acme/app/actions/workflows/sync.yml/dispatches"
	ctx := context.Background()
	release, err := p.acquire(ctx, 1, PriorityBackground, http.MethodPost, path)
	if err != nil {
		t.Fatal(err)
	}
	release()
	order := make(chan string, 4)
	var wg sync.WaitGroup
	queued := 0
	start := func(name string, prio Priority) {
		wg.Go(func() {
			release, err := p.acquire(ctx, 1, prio, http.MethodPost, path)
			if err != nil {
				t.Error(err)
				return
			}
			order <- name // one slot a minute: admissions cannot race
			release()
		})
		queued++
		for { // wait until it is queued, so arrival order is known
			p.mu.Lock()
			n := len(p.insts[1].waiters)
			p.mu.Unlock()
			if n == queued {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	start("background", PriorityBackground)
	start("feedback-1", PriorityFeedback)
	start("dispatch", PriorityDispatch)
	start("feedback-2", PriorityFeedback)

	var got []string
	for len(got) < 4 {
		clk.Add(61*time.Second + windowMargin)
		p.mu.Lock()
		p.notify(p.insts[1])
		p.mu.Unlock()
		select {
		case n := <-order:
			got = append(got, n)
		case <-time.After(5 * time.Second):
			t.Fatalf("no admission after the window moved; so far %v", got)
		}
	}
	wg.Wait()
	want := []string{"dispatch", "feedback-1", "feedback-2", "background"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestPacerWindows(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	t.Run("an endpoint's points: writes cost 5, reads 1", func(t *testing.T) {
		p := newPacer(nil, PaceLimits{EndpointPointsPerMinute: 10}, clk.Now, nil)
		st := p.state(1)
		w := &waiter{}
		for range 2 {
			if d := p.admissible(st, clk.Now(), w, false, "POST /x", 5); d != 0 {
				t.Fatalf("write refused: %s", d)
			}
			p.record(st, clk.Now(), w, false, "POST /x", 5)
		}
		if d := p.admissible(st, clk.Now(), w, false, "POST /x", 5); d < time.Minute {
			t.Fatalf("third write may go in %s, want after the window", d)
		}
		if d := p.admissible(st, clk.Now(), w, false, "GET /y", 1); d != 0 {
			t.Fatalf("another endpoint waits %s", d)
		}
	})
	t.Run("500 content-generating requests an hour", func(t *testing.T) {
		p := newPacer(nil, PaceLimits{ContentPerMinute: 80, ContentPerHour: 500}, clk.Now, nil)
		st := p.state(1)
		sent := 0
		for range 70 {
			for range 80 {
				w := &waiter{}
				st.waiters = []*waiter{w}
				if p.admissible(st, clk.Now(), w, true, "POST /repos/a/b/x", 5) != 0 {
					break
				}
				p.record(st, clk.Now(), w, true, "POST /repos/a/b/x", 5)
				sent++
			}
			clk.Add(time.Minute)
		}
		// No window GitHub counts holds more than its limit...
		for i, at := range st.content {
			inHour, inMinute := 0, 0
			for _, b := range st.content[:i+1] {
				if b.After(at.Add(-time.Hour)) {
					inHour++
				}
				if b.After(at.Add(-time.Minute)) {
					inMinute++
				}
			}
			if inHour > 500 || inMinute > 80 {
				t.Fatalf("at %s: %d in the hour, %d in the minute", at.Format(time.TimeOnly), inHour, inMinute)
			}
		}
		// ...and the first hour's budget is all used.
		first := 0
		for _, at := range st.content {
			if at.Before(st.content[0].Add(time.Hour)) {
				first++
			}
		}
		if first != 500 || sent <= 500 {
			t.Fatalf("%d sent in the first hour (want 500), %d in 70 minutes", first, sent)
		}
	})
	t.Run("a block from GitHub holds every request until it ends", func(t *testing.T) {
		p := newPacer(nil, DefaultPaceLimits(), clk.Now, nil)
		p.block(1, clk.Now().Add(3*time.Second))
		st := p.state(1)
		if d := p.admissible(st, clk.Now(), &waiter{}, false, "GET /z", 1); d != 3*time.Second {
			t.Fatalf("waits %s, want 3s", d)
		}
	})
}
