// Package slash runs /dispatch slash-commands written in issue and pull
// request comments (docs/ARCHITECTURE.md, Slash commands): it decides whether a comment counts
// (created, not by a bot, in an allowed repository), checks the author's
// permission, executes the commands against the queue, and keeps the author
// informed: 👀 on receipt, one reply per comment that is edited as its jobs
// are dispatched (🚀 and a run link) and end (✅/❌/🚫), and 😕 with a reason
// for anything refused.
//
// Every comment write goes through a per-installation pacer (at least one
// second apart) because GitHub's secondary rate limits punish bursts of
// content-creating requests far harder than a steady trickle.
//
// The webhook handler (handlers/issue_comment.go) only decodes the payload
// and calls Service.Submit after recording the delivery; all logic lives
// here. Job progress arrives through Service.JobChanged, which the queue's
// event fan-out calls.
//
// slash may import core, clock, store, queue, config, command and gh (for its value
// types only: GitHub is reached through the GitHub interface declared here).
// It must never import handlers, dispatcher or server.
package slash
