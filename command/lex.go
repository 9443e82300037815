package command

import (
	"strings"
)

// token is one shell-like word of a command line: unquoted runs, '...'
// (literal) and "..." (with \" and \\) glued together.
type token struct {
	text   string
	off    int  // byte offset of the token in its line
	quoted bool // some part of it was quoted
	flag   bool // starts with a bare "--"
	// eq is the index in text of the first '=' written outside quotes, or
	// -1. Only a bare '=' separates a key from its value.
	eq int
}

// lexError is a problem at a byte offset of the line.
type lexError struct {
	off int
	msg string
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func tokenize(line string, from int) ([]token, *lexError) {
	var toks []token
	i := from
	for {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i >= len(line) {
			return toks, nil
		}
		t := token{off: i, eq: -1, flag: strings.HasPrefix(line[i:], "--")}
		var sb strings.Builder
		for i < len(line) && !isBlank(line[i]) {
			switch c := line[i]; c {
			case '\'':
				end := strings.IndexByte(line[i+1:], '\'')
				if end < 0 {
					return nil, &lexError{off: i, msg: "unterminated ' quote"}
				}
				sb.WriteString(line[i+1 : i+1+end])
				t.quoted = true
				i += end + 2
			case '"':
				j := i + 1
				closed := false
				for j < len(line) {
					if line[j] == '\\' && j+1 < len(line) && (line[j+1] == '"' || line[j+1] == '\\') {
						sb.WriteByte(line[j+1])
						j += 2
						continue
					}
					if line[j] == '"' {
						closed = true
						break
					}
					sb.WriteByte(line[j])
					j++
				}
				if !closed {
					return nil, &lexError{off: i, msg: `unterminated " quote`}
				}
				t.quoted = true
				i = j + 1
			case '=':
				if t.eq < 0 {
					t.eq = sb.Len()
				}
				sb.WriteByte(c)
				i++
			default:
				sb.WriteByte(c)
				i++
			}
		}
		t.text = sb.String()
		toks = append(toks, t)
	}
}
