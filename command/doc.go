// Package command reads `/dispatch` slash-commands out of issue and pull
// request comment text (docs/ARCHITECTURE.md, Slash commands) and renders them back.
//
// It is pure: text in, commands and positioned errors out. Whether the
// author may run a command, which template or job it names, and what the
// reply says is the business of the issue_comment handler. It must never
// import another package of this module, so it can be fuzzed on its own.
package command
