package core

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// runnerPool holds idle runners bucketed by identical label sets. Fleets of
// thousands of runners usually carry a few dozen distinct label sets, so
// label matching is done once per (label set, bucket) pair, never per runner.
type runnerPool struct {
	buckets []*runnerBucket
	// byLabel is an inverted index: label -> buckets carrying it.
	byLabel map[string][]*runnerBucket
	cursors map[string]*cursor
	ranked  bool
}

type runnerBucket struct {
	key     string
	set     map[string]struct{}
	ids     []int64
	breadth int // how many dispatchable groups could use a runner of this bucket
	rank    int // position in the preference order: narrowest first
}

// cursor walks the buckets matching one label set in preference order.
// Buckets only ever lose runners during one calculation, so a bucket found
// empty stays empty and the cursor never looks at it again.
type cursor struct {
	buckets []*runnerBucket
	pos     int
	initial int // matching idle runners before anything was taken
}

func newRunnerPool(runners []Runner) *runnerPool {
	p := &runnerPool{byLabel: map[string][]*runnerBucket{}, cursors: map[string]*cursor{}}
	byKey := map[string]*runnerBucket{}
	// Runners of one pool usually list the same labels in the same
	// spelling; looking the raw list up first skips normalising each one.
	byRaw := map[string]*runnerBucket{}
	seen := make(map[int64]struct{}, len(runners))
	var buf []byte
	for _, r := range runners {
		// A runner listed twice (e.g. by two reconciles of overlapping
		// scopes) must still be promised only once.
		if _, dup := seen[r.ID]; dup {
			continue
		}
		seen[r.ID] = struct{}{}
		if !r.Idle() {
			continue
		}
		buf = appendKey(buf[:0], r.Labels)
		b := byRaw[string(buf)] // no allocation for a lookup
		if b == nil {
			b = p.bucketFor(byKey, r.Labels)
			byRaw[string(buf)] = b
		}
		b.ids = append(b.ids, r.ID)
	}
	return p
}

// bucketFor finds or creates the bucket of a label set.
func (p *runnerPool) bucketFor(byKey map[string]*runnerBucket, raw []string) *runnerBucket {
	labels, key := labelKey(raw)
	b := byKey[key]
	if b == nil {
		b = &runnerBucket{key: key, set: make(map[string]struct{}, len(labels))}
		for _, l := range labels {
			b.set[l] = struct{}{}
			p.byLabel[l] = append(p.byLabel[l], b)
		}
		byKey[key] = b
		p.buckets = append(p.buckets, b)
	}
	return b
}

// labelKey normalises labels and returns them sorted with a map key.
func labelKey(labels []string) ([]string, string) {
	norm := NormalizeLabels(labels)
	slices.Sort(norm)
	return norm, joinKey(norm)
}

// joinKey makes a collision-free map key of a label list.
func joinKey(labels []string) string {
	return string(appendKey(nil, labels))
}

// appendKey writes each label with its length first, so no label content
// can fake a boundary between labels.
func appendKey(buf []byte, labels []string) []byte {
	for _, l := range labels {
		buf = strconv.AppendInt(buf, int64(len(l)), 10)
		buf = append(buf, ':')
		buf = append(buf, l...)
	}
	return buf
}

// cursor returns the shared cursor for a label set, creating it on first use.
func (p *runnerPool) cursor(want []string) *cursor {
	labels, key := labelKey(want)
	if c := p.cursors[key]; c != nil {
		return c
	}
	c := &cursor{buckets: p.matching(labels)}
	for _, b := range c.buckets {
		c.initial += len(b.ids)
	}
	if p.ranked {
		sortByRank(c.buckets)
	}
	p.cursors[key] = c
	return c
}

// matching lists the buckets whose label set contains every label of want
// (normalised), starting from the rarest label's postings.
func (p *runnerPool) matching(want []string) []*runnerBucket {
	if len(want) == 0 {
		return slices.Clone(p.buckets)
	}
	rarest := want[0]
	for _, l := range want[1:] {
		if len(p.byLabel[l]) < len(p.byLabel[rarest]) {
			rarest = l
		}
	}
	var out []*runnerBucket
	for _, b := range p.byLabel[rarest] {
		ok := true
		for _, l := range want {
			if _, has := b.set[l]; !has {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, b)
		}
	}
	return out
}

// rank fixes the preference order once breadths are known: narrowest bucket
// first, then by label key so the result is deterministic.
func (p *runnerPool) rank() {
	slices.SortFunc(p.buckets, func(a, b *runnerBucket) int {
		return cmp.Or(cmp.Compare(a.breadth, b.breadth), strings.Compare(a.key, b.key))
	})
	for i, b := range p.buckets {
		b.rank = i
	}
	for _, c := range p.cursors {
		sortByRank(c.buckets)
	}
	p.ranked = true
}

func sortByRank(bs []*runnerBucket) {
	slices.SortFunc(bs, func(a, b *runnerBucket) int { return cmp.Compare(a.rank, b.rank) })
}

// take removes and returns an idle runner from the most preferred bucket.
func (c *cursor) take() (int64, bool) {
	for ; c.pos < len(c.buckets); c.pos++ {
		b := c.buckets[c.pos]
		if len(b.ids) > 0 {
			id := b.ids[0]
			b.ids = b.ids[1:]
			return id, true
		}
	}
	return 0, false
}

// available counts the idle runners still left for this label set.
func (c *cursor) available() int {
	n := 0
	for _, b := range c.buckets[c.pos:] {
		n += len(b.ids)
	}
	return n
}
