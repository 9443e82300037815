package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// dist summarises a sample of durations.
type dist struct {
	N                   int
	P50, P99, Max, Mean time.Duration
}

func summarise(xs []time.Duration) dist {
	if len(xs) == 0 {
		return dist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return dist{N: len(s), P50: quantile(s, 0.50), P99: quantile(s, 0.99), Max: s[len(s)-1], Mean: sum / time.Duration(len(s))}
}

// quantile of a sorted sample, nearest rank (no interpolation: every
// figure reported is one that was measured).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func (d dist) String() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(d.P50), ms(d.P99), ms(d.Max), d.N)
}

// ms formats a wall-clock latency in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// secs formats a simulated duration in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// ratio is a/b, guarding b = 0 (reported as +Inf so it is never mistaken
// for a good figure).
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return a / b
}
