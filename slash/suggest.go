package slash

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
)

// nearest returns up to n of candidates closest to name by edit distance
// (case-insensitive), closest first, ties in alphabetical order.
func nearest(name string, candidates []string, n int) []string {
	type scored struct {
		id string
		d  int
	}
	all := make([]scored, 0, len(candidates))
	for _, c := range candidates {
		all = append(all, scored{c, core.EditDistance(strings.ToLower(name), strings.ToLower(c))})
	}
	slices.SortFunc(all, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.d, b.d), strings.Compare(a.id, b.id))
	})
	out := make([]string, 0, n)
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.id)
	}
	return out
}
