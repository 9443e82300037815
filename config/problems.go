package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration, located in the file that
// holds it. Line and Column are 1-based; zero when unknown (for example a
// template URL that could not be fetched has no lines of its own).
type Problem struct {
	File   string
	Line   int
	Column int
	// Path is the YAML path of the offending value inside File, such as
	// "groups.github[0].runner_labels" or "[2].owner" in a template file.
	Path string
	Msg  string
}

// String renders "file:line:col: path: message", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one load. It is the error Load returns
// when the configuration is not usable; errors.As recovers it.
type Problems []Problem

// Error prints one problem per line, sorted by file then line, which is what
// `dispatchoor validate` shows.
func (ps Problems) Error() string {
	sorted := ps.Sorted()
	lines := make([]string, len(sorted))
	for i, p := range sorted {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Sorted returns a copy ordered by file, line, column, then message.
func (ps Problems) Sorted() Problems {
	out := make(Problems, len(ps))
	copy(out, ps)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Msg < b.Msg
	})
	return out
}
