package core

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"equal strings", "sync", "sync", 0},
		{"both empty", "", "", 0},
		{"insertion from empty", "", "abc", 3},
		{"deletion to empty", "abc", "", 3},
		{"one substitution", "sync", "sink", 2},
		{"neighbour swap costs one", "snyc-test", "sync-test", 1},
		{"insertion", "max_concurent", "max_concurrent", 1},
		{"runes not bytes", "größe", "grösse", 2},
		{"is case sensitive", "Sync", "sync", 1},
		{"kitten sitting", "kitten", "sitting", 3},
		{"missing letter", "sync-tst", "sync-test", 1},
		{"accent is one rune", "héllo", "hello", 1},
		{"two-letter swap", "ab", "ba", 1},
		{"swap then edit is not a transposition", "abc", "ca", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EditDistance(tt.a, tt.b); got != tt.want {
				t.Fatalf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := EditDistance(tt.b, tt.a); got != tt.want {
				t.Fatalf("EditDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}
