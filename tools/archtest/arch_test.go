package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pkg is the part of `go list -json` output the rules need.
type pkg struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
	Imports    []string
}

// rules maps a package (relative to the module) to the packages of the
// module it may import.
type rules map[string][]string

func moduleRoot(t *testing.T) (root, module string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}|{{.Path}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	root, module, _ = strings.Cut(strings.TrimSpace(string(out)), "|")
	return root, module
}

// parseRules reads the table between the archtest markers of
// docs/ARCHITECTURE.md.
func parseRules(r io.Reader) (rules, error) {
	rs := rules{}
	in := false
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(text, "<!-- archtest:begin"):
			in = true
			continue
		case strings.HasPrefix(text, "<!-- archtest:end"):
			if len(rs) == 0 {
				return nil, errors.New("the archtest table is empty")
			}
			return rs, nil
		}
		if !in || !strings.HasPrefix(text, "|") || strings.HasPrefix(text, "|---") || strings.HasPrefix(text, "| package") {
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		if len(cells) != 2 {
			return nil, fmt.Errorf("line %d: want two cells, got %d: %q", line, len(cells), text)
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if name == "" {
			return nil, fmt.Errorf("line %d: no package name", line)
		}
		if _, dup := rs[name]; dup {
			return nil, fmt.Errorf("line %d: %s has two rows", line, name)
		}
		allowed := []string{}
		for _, f := range strings.Fields(cells[1]) {
			if f == "—" || f == "-" {
				continue
			}
			allowed = append(allowed, strings.Trim(f, "`"))
		}
		rs[name] = allowed
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("no archtest:begin/archtest:end table found")
}

// check returns every broken rule: imports not allowed, packages without a
// row, rows without a package.
func check(rs rules, module string, pkgs []pkg) []string {
	var problems []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel, ok := relative(module, p.ImportPath)
		if !ok || strings.Contains(rel, "node_modules/") {
			// npm packages may ship Go code (scripts/npm-ci.sh fences
			// node_modules off with a go.mod; this covers a tree installed
			// before it did).
			continue
		}
		seen[rel] = true
		allowed, ok := rs[rel]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s has no row in the dependency table of docs/ARCHITECTURE.md", rel))
			continue
		}
		for _, imp := range p.Imports {
			irel, ours := relative(module, imp)
			if ours && !slices.Contains(allowed, irel) {
				problems = append(problems, fmt.Sprintf("%s imports %s, which its row in docs/ARCHITECTURE.md does not allow", rel, irel))
			}
		}
	}
	for name := range rs {
		if !seen[name] {
			problems = append(problems, fmt.Sprintf("docs/ARCHITECTURE.md has a row for %s, which is not a package of the module", name))
		}
	}
	slices.Sort(problems)
	return problems
}

func relative(module, path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

func goList(t *testing.T, root string, args ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportsFollowTheMap(t *testing.T) {
	root, module := moduleRoot(t)
	f, err := os.Open(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := parseRules(f)
	if err != nil {
		t.Fatalf("docs/ARCHITECTURE.md: %v", err)
	}
	for _, p := range check(rs, module, goList(t, root, "./...")) {
		t.Error(p)
	}
}

// The checks themselves must be able to fail.
func TestChecksReportViolations(t *testing.T) {
	const m = "example.com/x"
	table := "intro\n<!-- archtest:begin -->\n| package | may import (of this module) |\n|---|---|\n" +
		"| `core` | — |\n| `queue` | `core` |\n| `gone` | — |\n<!-- archtest:end -->\n"
	rs, err := parseRules(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []pkg{
		{ImportPath: m + "/core", Imports: []string{"fmt"}},
		{ImportPath: m + "/queue", Imports: []string{m + "/core", m + "/server"}},
		{ImportPath: m + "/server", Imports: []string{m + "/queue"}},
	}
	got := check(rs, m, pkgs)
	want := []string{
		"docs/ARCHITECTURE.md has a row for gone, which is not a package of the module",
		"queue imports server, which its row in docs/ARCHITECTURE.md does not allow",
		"server has no row in the dependency table of docs/ARCHITECTURE.md",
	}
	if !slices.Equal(got, want) {
		t.Errorf("check:\n got %q\nwant %q", got, want)
	}

	for name, bad := range map[string]string{
		"no table":      "nothing here",
		"empty table":   "<!-- archtest:begin -->\n<!-- archtest:end -->",
		"duplicate row": "<!-- archtest:begin -->\n| `a` | — |\n| `a` | — |\n<!-- archtest:end -->",
		"three cells":   "<!-- archtest:begin -->\n| `a` | — | x |\n<!-- archtest:end -->",
	} {
		if _, err := parseRules(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: parseRules accepted %q", name, bad)
		}
	}
}
