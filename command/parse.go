package command

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const prefix = "/dispatch"

// ParseError is a /dispatch line that could not be read. Other lines of the
// same comment are still parsed.
type ParseError struct {
	Line int // 1-based line of the comment
	// Column is 1-based and counts characters (runes, not bytes) of the line
	// as written, leading spaces included, so it matches what the author
	// sees in the comment box.
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Parse reads every /dispatch command of a comment.
//
// A command is a line whose first non-blank text is "/dispatch" followed by
// a blank or the end of the line ("/dispatchfoo" is just text). Lines quoted
// with '>' and lines inside fenced code blocks are skipped: people quote and
// document commands without meaning to run them. Fences are ``` or ~~~
// (three or more) with any info string, closed by a run of the same
// character at least as long; an unclosed fence runs to the end of the
// comment, as GitHub renders it. Unlike CommonMark, a fence indented by four
// or more blanks still counts (it is how fences inside list items look), so
// an example there is never run by accident. Lines of an HTML comment
// (<!-- ... -->, which GitHub hides) are skipped too, so a saved reply or
// template that documents commands in one runs nothing. CRLF line ends are
// accepted.
//
// Commands come back in comment order; a bad line yields a ParseError
// instead of a command.
func Parse(text string) ([]Command, []*ParseError) {
	var (
		cmds          []Command
		errs          []*ParseError
		inHTMLComment bool
		fence         struct {
			char byte
			n    int
		}
	)
	for i, line := range strings.Split(text, "\n") {
		lineNo := i + 1
		line = strings.TrimSuffix(line, "\r")
		body := strings.TrimLeft(line, " \t")
		if inHTMLComment {
			inHTMLComment = !strings.Contains(line, "-->")
			continue
		}
		if fence.n > 0 {
			if closesFence(body, fence.char, fence.n) {
				fence.n = 0
			}
			continue
		}
		if c, n, ok := opensFence(body); ok {
			fence.char, fence.n = c, n
			continue
		}
		if rest, ok := strings.CutPrefix(body, "<!--"); ok {
			inHTMLComment = !strings.Contains(rest, "-->")
			continue
		}
		if strings.HasPrefix(body, ">") || !strings.HasPrefix(body, prefix) {
			continue
		}
		start := len(line) - len(body)
		if rest := body[len(prefix):]; rest != "" && !isBlank(rest[0]) {
			continue
		}
		cmd, lerr := parseLine(line, start)
		if lerr != nil {
			errs = append(errs, &ParseError{
				Line:   lineNo,
				Column: utf8.RuneCountInString(line[:lerr.off]) + 1,
				Msg:    lerr.msg,
			})
			continue
		}
		cmd.Line = lineNo
		cmds = append(cmds, cmd)
	}
	return cmds, errs
}

func opensFence(body string) (byte, int, bool) {
	if body == "" || (body[0] != '`' && body[0] != '~') {
		return 0, 0, false
	}
	c := body[0]
	n := runLength(body, c)
	// A backtick line like ```x``` is inline code, not a fence (CommonMark
	// forbids backticks in a backtick fence's info string).
	if n < 3 || (c == '`' && strings.IndexByte(body[n:], '`') >= 0) {
		return 0, 0, false
	}
	return c, n, true
}

func closesFence(body string, c byte, n int) bool {
	m := runLength(body, c)
	return m >= n && strings.TrimLeft(body[m:], " \t") == ""
}

func runLength(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

// parseLine parses the /dispatch command that starts at byte start of line.
func parseLine(line string, start int) (Command, *lexError) {
	toks, lerr := tokenize(line, start+len(prefix))
	if lerr != nil {
		return Command{}, lerr
	}
	if len(toks) == 0 {
		return Command{}, &lexError{off: start, msg: "empty command: name a template, or write /dispatch help"}
	}
	first := toks[0]
	if !first.quoted && isKeyword(first.text) {
		return parseSub(Kind(first.text), toks[1:], len(line))
	}
	return parseDispatch(toks)
}

func parseSub(kind Kind, args []token, eol int) (Command, *lexError) {
	cmd := Command{Kind: kind, Requeue: -1}
	maxArgs := 0
	switch kind {
	case KindStatus, KindCancel:
		maxArgs = 1
	}
	if len(args) > maxArgs {
		extra := args[maxArgs]
		what := "no arguments"
		if maxArgs == 1 {
			what = "a single job id"
		}
		return Command{}, &lexError{off: extra.off, msg: fmt.Sprintf("%s takes %s; unexpected %q", kind, what, extra.text)}
	}
	if len(args) == 0 {
		if kind == KindCancel {
			return Command{}, &lexError{off: eol, msg: "cancel needs a job id"}
		}
		return cmd, nil
	}
	id, err := parseJobID(args[0])
	if err != nil {
		return Command{}, err
	}
	cmd.JobID = id
	return cmd, nil
}

// parseJobID accepts "42" and "#42", the way jobs are shown in replies.
func parseJobID(t token) (int64, *lexError) {
	s := strings.TrimPrefix(t.text, "#")
	if allDigits(s) {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, &lexError{off: t.off, msg: fmt.Sprintf("job id must be a positive integer, got %q", t.text)}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
