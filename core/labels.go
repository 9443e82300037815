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

// UnservedLabels explains a label mismatch (docs/ARCHITECTURE.md, Runner state from webhooks): a run asked for
// want, and runners lists the label sets of the group's runners. It returns
// nil when some runner carries every wanted label, or when the group has no
// runners at all (an autoscaled group at zero cannot be judged). Otherwise it
// returns the wanted labels that no runner carries; when each label exists on
// some runner but no single runner carries them all, it returns what the
// closest runner (fewest missing, first on ties) lacks, so the answer is
// never empty for a real mismatch.
func UnservedLabels(want []string, runners [][]string) []string {
	if len(runners) == 0 {
		return nil
	}
	var closest []string
	for i, have := range runners {
		missing := MissingLabels(have, want)
		if len(missing) == 0 {
			return nil
		}
		if i == 0 || len(missing) < len(closest) {
			closest = missing
		}
	}
	var none []string
	for _, w := range want {
		if !slices.ContainsFunc(runners, func(have []string) bool { return HasLabels(have, []string{w}) }) {
			none = append(none, w)
		}
	}
	if len(none) > 0 {
		return none
	}
	return closest
}
