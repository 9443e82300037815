package command

import (
	"fmt"
	"strconv"
)

// parseDispatch reads `<template-id> [key=value ...] [flags]`; inputs and
// flags may be mixed after the template id.
func parseDispatch(toks []token) (Command, *lexError) {
	first := toks[0]
	switch {
	case first.flag:
		return Command{}, &lexError{off: first.off, msg: fmt.Sprintf("expected a template id before %s", first.text)}
	case first.eq >= 0:
		return Command{}, &lexError{off: first.off, msg: fmt.Sprintf("expected a template id before the input %q", first.text)}
	case isKeyword(first.text):
		// Only reachable quoted ("list"): a template can never be named
		// like a subcommand, or String could not write it back.
		return Command{}, &lexError{off: first.off, msg: fmt.Sprintf("%q is a command word, not a template id", first.text)}
	case !validTemplateID(first.text):
		return Command{}, &lexError{off: first.off, msg: fmt.Sprintf(
			"invalid template id %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", first.text)}
	}
	cmd := Command{Kind: KindDispatch, Template: first.text, Requeue: -1}
	seenFlag := map[string]bool{}
	seenKey := map[string]bool{}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		if t.flag {
			next, err := applyFlag(&cmd, toks, i, seenFlag)
			if err != nil {
				return Command{}, err
			}
			i = next
			continue
		}
		if t.eq < 0 {
			return Command{}, &lexError{off: t.off, msg: fmt.Sprintf("unexpected %q: inputs are written key=value", t.text)}
		}
		key, value := t.text[:t.eq], t.text[t.eq+1:]
		switch {
		case key == "":
			return Command{}, &lexError{off: t.off, msg: fmt.Sprintf("input %q has no key before '='", t.text)}
		case !validInputKey(key):
			// GitHub's own rule for workflow input ids.
			return Command{}, &lexError{off: t.off, msg: fmt.Sprintf(
				"invalid input name %q: use letters, digits, '_' and '-', starting with a letter or '_'", key)}
		case seenKey[key]:
			return Command{}, &lexError{off: t.off, msg: fmt.Sprintf("input %q is given twice", key)}
		}
		seenKey[key] = true
		cmd.Inputs = append(cmd.Inputs, Input{Key: key, Value: value})
	}
	return cmd, nil
}

// applyFlag applies the flag at toks[i] and returns the index of the last
// token it consumed.
func applyFlag(cmd *Command, toks []token, i int, seen map[string]bool) (int, *lexError) {
	t := toks[i]
	name, value, valueOff, hasValue := t.text, "", t.off, false
	if t.eq >= 0 {
		name, value, hasValue = t.text[:t.eq], t.text[t.eq+1:], true
	}
	switch name {
	case "--group", "--ref", "--requeue", "--top":
	default:
		return i, &lexError{off: t.off, msg: fmt.Sprintf("unknown flag %s (flags are --group, --ref, --top, --requeue)", name)}
	}
	if seen[name] {
		return i, &lexError{off: t.off, msg: fmt.Sprintf("%s is given twice", name)}
	}
	seen[name] = true
	if name == "--top" {
		if hasValue {
			return i, &lexError{off: t.off, msg: "--top takes no value"}
		}
		cmd.Top = true
		return i, nil
	}
	if !hasValue {
		// A bare flag right after is a forgotten value, not the value: a
		// value that really starts with "--" has to be quoted.
		if i+1 >= len(toks) || toks[i+1].flag {
			return i, &lexError{off: t.off, msg: fmt.Sprintf("%s needs a value", name)}
		}
		i++
		value, valueOff = toks[i].text, toks[i].off
	}
	if value == "" {
		return i, &lexError{off: t.off, msg: fmt.Sprintf("%s needs a non-empty value", name)}
	}
	switch name {
	case "--group":
		cmd.Group = value
	case "--ref":
		cmd.Ref = value
	case "--requeue":
		n, err := strconv.Atoi(value)
		if !allDigits(value) || err != nil {
			return i, &lexError{off: valueOff, msg: fmt.Sprintf("--requeue needs a non-negative integer, got %q", value)}
		}
		cmd.Requeue = n
	}
	return i, nil
}

func isKeyword(s string) bool {
	switch Kind(s) {
	case KindStatus, KindCancel, KindList, KindHelp:
		return true
	}
	return false
}

// validTemplateID: [A-Za-z0-9][A-Za-z0-9._-]*
func validTemplateID(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validInputKey: [A-Za-z_][A-Za-z0-9_-]*, GitHub's rule for input ids.
func validInputKey(s string) bool {
	if s == "" || (!isAlpha(s[0]) && s[0] != '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }
