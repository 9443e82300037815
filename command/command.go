package command

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Kind says which form of /dispatch a command is.
type Kind string

const (
	// KindDispatch queues a job from a template.
	KindDispatch Kind = "dispatch"
	KindStatus   Kind = "status"
	KindCancel   Kind = "cancel"
	KindList     Kind = "list"
	KindHelp     Kind = "help"
)

// Input is one key=value of a dispatch command. Inputs are kept as a list in
// the order written so a reply can echo them back as the author typed them.
type Input struct {
	Key   string
	Value string
}

// Command is one parsed /dispatch line.
type Command struct {
	Kind Kind
	// Line is the 1-based line of the comment the command was read from.
	Line int
	// Template, Inputs, Group, Ref, Top and Requeue belong to KindDispatch.
	Template string
	Inputs   []Input // nil when none; keys are unique
	Group    string  // empty: the template's own group
	Ref      string  // empty: the template's ref; "pr" means the PR's head branch
	Top      bool
	Requeue  int // -1 when --requeue was not given
	// JobID belongs to KindStatus (0: the caller's latest jobs) and KindCancel.
	JobID int64
}

// InputMap returns the inputs as a map, for merging over a template's.
func (c Command) InputMap() map[string]string {
	m := make(map[string]string, len(c.Inputs))
	for _, in := range c.Inputs {
		m[in.Key] = in.Value
	}
	return m
}

// String renders the command as a canonical /dispatch line that Parse reads
// back to an equal command (Line aside): flags in a fixed order, values
// quoted only where they must be.
func (c Command) String() string {
	var b strings.Builder
	b.WriteString(prefix)
	switch c.Kind {
	case KindDispatch:
		b.WriteString(" ")
		b.WriteString(c.Template)
		for _, in := range c.Inputs {
			fmt.Fprintf(&b, " %s=%s", in.Key, quote(in.Value))
		}
		if c.Group != "" {
			fmt.Fprintf(&b, " --group %s", quote(c.Group))
		}
		if c.Ref != "" {
			fmt.Fprintf(&b, " --ref %s", quote(c.Ref))
		}
		if c.Top {
			b.WriteString(" --top")
		}
		if c.Requeue >= 0 {
			fmt.Fprintf(&b, " --requeue %d", c.Requeue)
		}
	case KindStatus:
		b.WriteString(" status")
		if c.JobID > 0 {
			b.WriteString(" " + strconv.FormatInt(c.JobID, 10))
		}
	case KindCancel:
		b.WriteString(" cancel " + strconv.FormatInt(c.JobID, 10))
	default:
		b.WriteString(" " + string(c.Kind))
	}
	return b.String()
}

// quote returns v as one token: bare when that reads back unchanged,
// otherwise in single quotes (nothing is escaped inside them, which suits
// JSON), or in double quotes with \" and \\ escaped when v holds a '.
func quote(v string) string {
	if !needsQuote(v) {
		return v
	}
	if !strings.Contains(v, "'") {
		return "'" + v + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

func needsQuote(v string) bool {
	// A bare "-..." value could read as a flag; a bare value with '=' could
	// read as an input.
	if v == "" || strings.HasPrefix(v, "-") {
		return true
	}
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`'"\=`, r) {
			return true
		}
	}
	return false
}

// Help is the grammar, formatted for a reply comment.
func Help() string {
	return "Commands (one per line; quoted lines, code blocks and HTML comments are ignored):\n\n" +
		"```\n" +
		"/dispatch <template-id> [key=value ...] [--group G] [--ref R] [--top] [--requeue N]\n" +
		"/dispatch status [job-id]\n" +
		"/dispatch cancel <job-id>\n" +
		"/dispatch list\n" +
		"/dispatch help\n" +
		"```\n\n" +
		"- `key=value` overrides a workflow input; quote values with spaces or JSON: " +
		"`note=\"two words\"`, `config='{\"network\":\"hoodi\"}'`. Inside double quotes, write `\\\"` and `\\\\`.\n" +
		"- `--group G` queues in group G instead of the template's own group.\n" +
		"- `--ref R` dispatches on branch or tag R; on a pull request `--ref pr` means its head branch.\n" +
		"- `--top` puts the job at the front of the queue.\n" +
		"- `--requeue N` queues the job again each time it ends, at most N times (0: no limit).\n" +
		"- Flags can also be written `--group=G`. A job id may be written `42` or `#42`; " +
		"`status` without one lists your latest jobs.\n" +
		"- `list` shows the templates you can dispatch from this repository.\n"
}
