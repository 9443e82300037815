package queue

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
)

// Positions arrive from the API and from slash-commands: any string must be
// either refused with a ValidationError on "position" or mean exactly one
// placement that prints back to an equivalent string.
func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"", "top", "bottom", "before:1", "before:", "before:-3", "before:9223372036854775808", "Top", "before: 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePosition(s)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "position" {
				t.Fatalf("%q: error %v is not a validation error on position", s, err)
			}
			return
		}
		var canon string
		switch p.Where {
		case store.Bottom:
			canon = "bottom"
		case store.Top:
			canon = "top"
		case store.Before:
			if p.Before <= 0 {
				t.Fatalf("%q: accepted before a non-positive id %d", s, p.Before)
			}
			canon = fmt.Sprintf("before:%d", p.Before)
		default:
			t.Fatalf("%q: unknown placement %+v", s, p)
		}
		if again, err := parsePosition(canon); err != nil || again != p {
			t.Fatalf("%q -> %+v -> %q -> %+v (%v)", s, p, canon, again, err)
		}
	})
}
