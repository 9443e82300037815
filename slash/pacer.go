package slash

import (
	"context"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/clock"
)

// Clock is the time source of the pacer and the permission cache. Tests
// inject the simulator's accelerated clock, so a paced second passes in a
// few milliseconds of real time while timestamps stay comparable with the
// simulator's request log.
type Clock = clock.Clock

// pacer spaces the comment writes of each installation at least interval
// apart. GitHub counts secondary limits per token, and an installation's
// token is shared by everything we do for it, so pacing per installation is
// what keeps a burst of comments (or of job updates) from tripping them.
type pacer struct {
	clock    Clock
	interval time.Duration

	mu    sync.Mutex
	slots map[int64]*slot
}

type slot struct {
	mu   sync.Mutex
	last time.Time // when the previous write of this installation ended
}

func newPacer(c Clock, interval time.Duration) *pacer {
	return &pacer{clock: c, interval: interval, slots: map[int64]*slot{}}
}

func (p *pacer) slot(inst int64) *slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[inst]
	if s == nil {
		s = &slot{}
		p.slots[inst] = s
	}
	return s
}

// do runs write with the installation's slot held, once interval has passed
// since its previous write ended. write reports whether it wrote anything: a
// write that decided there was nothing to say does not delay the next one.
// The slot is held while waiting, so writes of one installation never
// overlap.
func (p *pacer) do(ctx context.Context, inst int64, write func(ctx context.Context) (bool, error)) error {
	s := p.slot(inst)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() {
		if wait := s.last.Add(p.interval).Sub(p.clock.Now()); wait > 0 {
			if err := p.clock.Sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	wrote, err := write(ctx)
	if wrote || err != nil {
		// A failed request may still have reached GitHub and counted.
		s.last = p.clock.Now()
	}
	return err
}
