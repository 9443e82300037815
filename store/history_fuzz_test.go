package store

import (
	"errors"
	"math"
	"testing"
	"time"
)

// Cursors come back from clients, so their decoders see arbitrary input:
// they must refuse it with ErrInvalid, never panic, and whatever they accept
// must survive a round trip.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(queueCursor{rank: 1, position: 1536.25, id: 42}.encode())
	f.Add(encodeHistoryCursor(time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC), 7))
	for _, s := range []string{"", "!!", "cXwxfDEwMjR8Mw", "aHx5ZXN0ZXJkYXl8Mw", "cXx8fA", "cXwxfE5hTnwz", "cXwxfCtJbmZ8Mw", "aHwyMDI2LTAzLTAxVDEyOjAwOjAwWnwtMQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := decodeQueueCursor(s); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("queue cursor %q: error %v is not ErrInvalid", s, err)
			}
		} else {
			if math.IsNaN(c.position) || math.IsInf(c.position, 0) {
				t.Fatalf("queue cursor %q: accepted position %v", s, c.position)
			}
			back, err := decodeQueueCursor(c.encode())
			if err != nil || back != c {
				t.Fatalf("queue cursor %q: round trip %+v -> %+v (%v)", s, c, back, err)
			}
		}
		if at, id, err := decodeHistoryCursor(s); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("history cursor %q: error %v is not ErrInvalid", s, err)
			}
		} else {
			at2, id2, err := decodeHistoryCursor(encodeHistoryCursor(at, id))
			if err != nil || !at2.Equal(at) || id2 != id {
				t.Fatalf("history cursor %q: round trip (%v,%d) -> (%v,%d) %v", s, at, id, at2, id2, err)
			}
		}
	})
}
