package store

import (
	"errors"
	"testing"
)

// The audit cursor comes from the client verbatim: any string must give a
// clear ErrInvalid or a position that encodes back to a cursor naming the
// same position.
func FuzzDecodeAuditCursor(f *testing.F) {
	f.Add(encodeAuditCursor(42))
	f.Add("")
	f.Add("!!!")
	f.Add("YXVkaXQ6LTE") // audit:-1
	f.Fuzz(func(t *testing.T, s string) {
		id, err := decodeAuditCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("cursor %q: %v, want ErrInvalid", s, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("cursor %q decoded to position %d", s, id)
		}
		back, err := decodeAuditCursor(encodeAuditCursor(id))
		if err != nil || back != id {
			t.Fatalf("position %d does not round-trip: %d %v", id, back, err)
		}
	})
}
