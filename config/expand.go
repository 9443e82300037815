package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Expand replaces ${NAME} references in s, NAME matching
// [A-Za-z_][A-Za-z0-9_]*. "$${" writes a literal "${" (and what follows is
// not a reference). Every other "$" passes untouched, which is what keeps
// bcrypt hashes ("$2a$10$...") and GitHub expressions ("${{ github.sha }}")
// intact. Values are inserted verbatim and never expanded again, so a
// variable cannot pull in another one.
//
// missing lists the referenced names lookup does not know, in order; s is
// expanded with those left as they were, but callers must treat a missing
// name as an error rather than use the result.
func Expand(s string, lookup func(string) (string, bool)) (out string, missing []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if name, n := refAt(s[i:]); n > 0 {
			v, ok := "", false
			if lookup != nil {
				v, ok = lookup(name)
			}
			if !ok {
				missing = append(missing, name)
				b.WriteString(s[i : i+n])
			} else {
				b.WriteString(v)
			}
			i += n
			continue
		}
		b.WriteByte('$')
		i++
	}
	return b.String(), missing
}

// refAt reads "${NAME}" at the start of s, returning NAME and the length of
// the reference, or n == 0 when s does not start with one.
func refAt(s string) (name string, n int) {
	if !strings.HasPrefix(s, "${") {
		return "", 0
	}
	end := strings.IndexByte(s[2:], '}')
	if end <= 0 {
		return "", 0
	}
	name = s[2 : 2+end]
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return "", 0
		}
	}
	return name, end + 3
}

// expandTree expands every scalar of a parsed document in place, so the
// nodes keep their own line numbers. Each scalar's tag is pinned before its
// value changes: a variable holding "true" or "null" must not turn a string
// into a bool or a null. Aliases are skipped because their anchor is
// expanded where it is defined.
func expandTree(n *yaml.Node, path string, lookup func(string) (string, bool), report func(n *yaml.Node, path, name string)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		out, missing := Expand(n.Value, lookup)
		if out == n.Value && missing == nil {
			return
		}
		if n.Tag == "" {
			n.Tag = n.ShortTag()
		}
		n.Value = out
		for _, name := range missing {
			report(n, path, name)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			expandTree(k, path, lookup, report)
			expandTree(n.Content[i+1], joinPath(path, k.Value), lookup, report)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandTree(c, fmt.Sprintf("%s[%d]", path, i), lookup, report)
		}
	}
}
