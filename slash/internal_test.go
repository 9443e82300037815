package slash

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// fakeClock advances only when slept on, so pacing is exact and instant.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestPacer(t *testing.T) {
	ctx := context.Background()
	wrote := func(context.Context) (bool, error) { return true, nil }
	skipped := func(context.Context) (bool, error) { return false, nil }
	failed := func(context.Context) (bool, error) { return true, errors.New("boom") }

	t.Run("writes of one installation wait out the interval", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(c, time.Second)
		var at []time.Time
		for range 3 {
			_ = p.do(ctx, 1, func(context.Context) (bool, error) { at = append(at, c.Now()); return true, nil })
			c.advance(100 * time.Millisecond) // the request itself took a while
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap != time.Second {
				t.Errorf("gap %d = %v, want exactly 1s", i, gap)
			}
		}
	})
	t.Run("installations do not wait for each other", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(c, time.Second)
		_ = p.do(ctx, 1, wrote)
		_ = p.do(ctx, 2, wrote)
		if len(c.sleeps) != 0 {
			t.Errorf("slept %v for a different installation", c.sleeps)
		}
	})
	t.Run("a write that wrote nothing does not delay the next", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(c, time.Second)
		_ = p.do(ctx, 1, skipped)
		_ = p.do(ctx, 1, wrote)
		if len(c.sleeps) != 0 {
			t.Errorf("slept %v after a skipped write", c.sleeps)
		}
	})
	t.Run("a failed write still counts", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(c, time.Second)
		if err := p.do(ctx, 1, failed); err == nil {
			t.Fatal("the write's error was lost")
		}
		_ = p.do(ctx, 1, wrote)
		if !slices.Equal(c.sleeps, []time.Duration{time.Second}) {
			t.Errorf("sleeps = %v, want [1s]", c.sleeps)
		}
	})
	t.Run("a cancelled context gives up waiting", func(t *testing.T) {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(c, time.Second)
		_ = p.do(ctx, 1, wrote)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ran := false
		err := p.do(cctx, 1, func(context.Context) (bool, error) { ran = true; return true, nil })
		if !errors.Is(err, context.Canceled) || ran {
			t.Errorf("err=%v ran=%v, want context.Canceled and no write", err, ran)
		}
	})
}

func TestNearest(t *testing.T) {
	ids := []string{"sync-test", "sync-fast", "snap-test", "block-sync", "hive"}
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"closest first: a swap costs 1, fast 3, snap 4", "sync-tset", []string{"sync-test", "sync-fast", "snap-test"}},
		{"case does not count; equal distances go alphabetically", "HIVE", []string{"hive", "snap-test", "sync-test"}},
		{"ties go alphabetically", "zzzz", []string{"hive", "snap-test", "sync-fast"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nearest(tc.in, ids, 3); !slices.Equal(got, tc.want) {
				t.Errorf("nearest(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	if got := nearest("x", []string{"a"}, 3); !slices.Equal(got, []string{"a"}) {
		t.Errorf("fewer candidates than asked: %v", got)
	}
}

func TestTrackerUpdate(t *testing.T) {
	job := func(s core.JobStatus) core.Job { return core.Job{ID: 1, Status: s, Source: core.JobSourceComment} }
	for _, tc := range []struct {
		name     string
		cur, got core.JobStatus
		news     bool
	}{
		{"triggered after pending is news", core.StatusPending, core.StatusTriggered, true},
		{"running before triggered is news, triggered after it is not", core.StatusRunning, core.StatusTriggered, false},
		{"nothing moves a finished job", core.StatusCompleted, core.StatusRunning, false},
		{"a late cancel after completion is ignored", core.StatusCompleted, core.StatusCancelled, false},
		{"dispatching may fall back to pending", core.StatusDispatching, core.StatusPending, true},
		{"pending never follows triggered", core.StatusTriggered, core.StatusPending, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			r := &reply{}
			tr.add(r, job(tc.cur))
			_, news := tr.update(job(tc.got))
			if news != tc.news {
				t.Errorf("update %s -> %s: news=%v, want %v", tc.cur, tc.got, news, tc.news)
			}
			want := tc.cur
			if tc.news {
				want = tc.got
			}
			if r.jobs[1].Status != want {
				t.Errorf("tracked status = %s, want %s", r.jobs[1].Status, want)
			}
		})
	}
	if _, ok := newTracker().update(job(core.StatusRunning)); ok {
		t.Error("an untracked job is news")
	}
}

func TestRelevant(t *testing.T) {
	s := &Service{}
	s.opts.Config.Enabled = true
	s.opts.Config.Repos = []string{"acme/*"}
	base := Comment{InstallationID: 1, Action: "created", Owner: "acme", Repo: "infra", Issue: 1, CommentID: 2,
		Author: "mia", AuthorType: "User", Body: "/dispatch help"}
	for _, tc := range []struct {
		name string
		mod  func(*Comment)
		why  string
	}{
		{"a created comment with a command is relevant", func(*Comment) {}, ""},
		{"edited comments never run (no diff, and would dispatch twice)", func(c *Comment) { c.Action = "edited" }, IgnoredAction},
		{"deleted comments never run", func(c *Comment) { c.Action = "deleted" }, IgnoredAction},
		{"user.type Bot is ignored", func(c *Comment) { c.AuthorType = "Bot" }, IgnoredBot},
		{"a [bot] login is ignored whatever its type", func(c *Comment) { c.Author = "Dispatchoor[BOT]" }, IgnoredBot},
		{"a repository outside the globs is ignored", func(c *Comment) { c.Owner = "other" }, IgnoredRepo},
		{"globs match case-insensitively", func(c *Comment) { c.Owner = "ACME" }, ""},
		{"text without /dispatch costs nothing", func(c *Comment) { c.Body = "LGTM" }, IgnoredNoCommand},
		{"a payload without ids is ignored", func(c *Comment) { c.CommentID = 0 }, IgnoredIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mod(&c)
			ok, why := s.Relevant(c)
			if why != tc.why || ok != (tc.why == "") {
				t.Errorf("Relevant = %v %q, want %q", ok, why, tc.why)
			}
		})
	}
	s.opts.Config.Enabled = false
	if ok, why := s.Relevant(base); ok || why != IgnoredDisabled {
		t.Errorf("disabled: %v %q", ok, why)
	}
}
