// Package core holds dispatchoor's domain: groups, templates, jobs, runners,
// the job state machine, label matching and the capacity calculation.
//
// It is pure: no I/O, no clocks it reads itself, no GitHub client, no
// database. Every decision the dispatcher, the handlers and the API make about
// jobs and runners is taken here from plain values, so it can be table-tested.
// It must never import another package of this module.
package core
