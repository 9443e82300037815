package core

import (
	"testing"
	"unicode/utf8"
)

// FuzzEditDistance checks the properties suggestions rely on: zero exactly for
// equal strings, symmetric, bounded by the longer string's length, and at
// least the difference in lengths.
func FuzzEditDistance(f *testing.F) {
	for _, s := range [][2]string{{"sync-test", "snyc-test"}, {"", "x"}, {"héllo", "hello"}, {"ab", "ba"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 64 || len(b) > 64 {
			return
		}
		d := EditDistance(a, b)
		la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
		if (d == 0) != (string([]rune(a)) == string([]rune(b))) {
			t.Fatalf("EditDistance(%q, %q) = %d: zero must mean equal", a, b, d)
		}
		if d != EditDistance(b, a) {
			t.Fatalf("EditDistance(%q, %q) is not symmetric", a, b)
		}
		if d > max(la, lb) || d < max(la-lb, lb-la) {
			t.Fatalf("EditDistance(%q, %q) = %d outside [%d, %d]", a, b, d, max(la-lb, lb-la), max(la, lb))
		}
	})
}
