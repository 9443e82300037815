package core

import (
	"slices"
	"strings"
)

// HasLabels reports whether a runner carrying have can serve a job or group
// that requires every label of want. GitHub compares labels case-insensitively.
// An empty want matches every runner.
func HasLabels(have, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

// MissingLabels returns the labels of want that have lacks, in want's order.
func MissingLabels(have, want []string) []string {
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			missing = append(missing, w)
		}
	}
	return missing
}

// NormalizeLabels lower-cases, trims and de-duplicates labels, keeping order.
// Stored labels are normalised so SQL filters need no case folding.
func NormalizeLabels(labels []string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || slices.Contains(out, l) {
			continue
		}
		out = append(out, l)
	}
	return out
}
