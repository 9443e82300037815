package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ethpandaops/dispatchoor/core"
)

// position is a place in a file.
type position struct{ line, col int }

// nodeBudget bounds how many nodes one document may make the decoder visit,
// so aliases of aliases ("billion laughs") cannot exhaust memory or time.
const nodeBudget = 200_000

// decoder lays a yaml.v3 node tree over a Go value, strictly: unknown and
// duplicate keys, wrong kinds and unparsable scalars become problems with
// positions instead of stopping at the first one (yaml.v3's own decoder
// gives no column, no path and stops at non-type errors). Keys that are
// absent leave the destination as it was, which is how defaults survive.
type decoder struct {
	file   string
	add    func(Problem)
	pos    map[string]position // path -> position of its value (or key)
	budget int
}

func newDecoder(file string, add func(Problem)) *decoder {
	return &decoder{file: file, add: add, pos: map[string]position{}, budget: nodeBudget}
}

func (d *decoder) problem(n *yaml.Node, path, format string, args ...any) {
	p := Problem{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.add(p)
}

// spend takes one unit of the node budget, reporting its exhaustion once.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	d.budget--
	if d.budget == -1 {
		d.problem(n, path, "document too large or too deeply aliased (over %d nodes)", nodeBudget)
	}
	return d.budget >= 0
}

var durationType = reflect.TypeOf(time.Duration(0))

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	return "a scalar"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n == nil {
		return
	}
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		d.decode(n.Alias, v, path)
		return
	}
	if _, seen := d.pos[path]; !seen {
		d.pos[path] = position{n.Line, n.Column}
	}
	if isNull(n) {
		return // absent in effect: keep the default
	}
	if v.Type() == durationType {
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.problem(n, path, "expected a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		d.integer(n, v, path)
	case reflect.Bool:
		d.boolean(n, v, path)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", v.Type()))
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(n, path, "expected a duration such as 15s, got %s", kindName(n))
		return
	}
	dur, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		d.problem(n, path, "invalid duration %q: use Go syntax such as 15s, 5m or 1h30m", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) integer(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(n, path, "expected an integer, got %s", kindName(n))
		return
	}
	i, err := strconv.ParseInt(strings.TrimSpace(n.Value), 0, 64)
	if err != nil || v.OverflowInt(i) {
		d.problem(n, path, "expected an integer, got %q", n.Value)
		return
	}
	v.SetInt(i)
}

func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(n, path, "expected true or false, got %s", kindName(n))
		return
	}
	switch strings.ToLower(strings.TrimSpace(n.Value)) {
	case "true", "yes", "on":
		v.SetBool(true)
	case "false", "no", "off":
		v.SetBool(false)
	default:
		d.problem(n, path, "expected true or false, got %q", n.Value)
	}
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(n, path, "expected a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

// entries lists a mapping's key/value pairs with YAML merge keys ("<<")
// applied: merged entries first, so the mapping's own keys override them.
// Each mapping is merged at most once, which makes self-referencing anchors
// (a mapping merging itself) finite instead of exponential.
func (d *decoder) entries(n *yaml.Node, path string) [][2]*yaml.Node {
	return d.mergedEntries(n, path, map[*yaml.Node]bool{n: true})
}

func (d *decoder) mergedEntries(n *yaml.Node, path string, visited map[*yaml.Node]bool) [][2]*yaml.Node {
	var merged, own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != "<<" || k.ShortTag() != "!!merge" {
			own = append(own, [2]*yaml.Node{k, val})
			continue
		}
		srcs := []*yaml.Node{val}
		if target := resolveAlias(val); target != nil && target.Kind == yaml.SequenceNode {
			srcs = target.Content
		}
		for _, src := range srcs {
			src = resolveAlias(src)
			if src == nil || src.Kind != yaml.MappingNode {
				d.problem(k, path, "merge key << needs a mapping or a list of mappings")
				continue
			}
			if visited[src] || !d.spend(k, path) {
				continue
			}
			visited[src] = true
			merged = append(merged, d.mergedEntries(src, path, visited)...)
		}
	}
	return append(merged, own...)
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// keyString returns a mapping key as text, refusing non-scalar keys.
func (d *decoder) keyString(k *yaml.Node, path string) (string, bool) {
	k = resolveAlias(k)
	if k == nil || k.Kind != yaml.ScalarNode {
		d.problem(k, path, "mapping keys must be scalars")
		return "", false
	}
	return k.Value, true
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	out := reflect.MakeMap(v.Type())
	seen := map[string]*yaml.Node{}
	for _, e := range d.entries(n, path) {
		key, ok := d.keyString(e[0], path)
		if !ok {
			continue
		}
		sub := joinPath(path, key)
		if prev, dup := seen[key]; dup && isOwnKey(n, e[0]) && isOwnKey(n, prev) {
			d.problem(e[0], sub, "duplicate key %q (first at line %d)", key, prev.Line)
			continue
		}
		seen[key] = e[0]
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(e[1], elem, sub)
		out.SetMapIndex(reflect.ValueOf(key), elem)
	}
	v.Set(out)
}

// isOwnKey tells a key written in this mapping from one pulled in by a
// merge: only repeats among a mapping's own keys are mistakes.
func isOwnKey(n, k *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i] == k {
			return true
		}
	}
	return false
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for _, e := range d.entries(n, path) {
		key, ok := d.keyString(e[0], path)
		if !ok {
			continue
		}
		sub := joinPath(path, key)
		idx, known := fields.index[key]
		if !known {
			msg := fmt.Sprintf("unknown key %q", key)
			if near := nearest(key, fields.names); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			d.problem(e[0], sub, "%s", msg)
			continue
		}
		if prev, dup := seen[key]; dup && isOwnKey(n, e[0]) && isOwnKey(n, prev) {
			d.problem(e[0], sub, "duplicate key %q (first at line %d)", key, prev.Line)
			continue
		}
		seen[key] = e[0]
		d.decode(e[1], v.Field(idx), sub)
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type structFields struct {
	index map[string]int
	names []string
}

// fieldsOf maps a struct type's yaml keys to field indexes. Recomputed per
// mapping: configs are small and it keeps the package free of shared state.
func fieldsOf(t reflect.Type) structFields {
	f := structFields{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	return f
}

// nearest suggests the known key closest to a misspelt one.
func nearest(key string, names []string) string {
	best, bestDist := "", len(key)/2+2
	for _, n := range names {
		if d := core.EditDistance(key, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}
