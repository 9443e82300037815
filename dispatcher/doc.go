// Package dispatcher is the leader-only heart of dispatchoor: the dispatch
// loop that turns free runner capacity into workflow_dispatch calls, and the
// reconciler that repairs what GitHub's unordered, unretried webhooks miss.
//
// The loop is event-driven. Anything that can free capacity (a runner went
// idle, a job ended or was enqueued, a group was unpaused, a reorder) calls
// Wake; a burst of wake-ups becomes one immediate pass, and a wake-up that
// arrives during a pass causes one more, so none is lost. The interval tick
// is only a safety net. A pass takes one snapshot of the store, asks
// core.Capacity how many jobs each group may send, claims that many per
// group in a transaction and dispatches them concurrently. Snapshots and
// claims never overlap, but the loop does not wait for GitHub to answer a
// pass's dispatches before serving the next wake-up: claimed jobs are in
// dispatching and count as in flight, so the next pass cannot promise their
// runners again.
//
// A dispatch is three steps, each safe to crash after (docs/ARCHITECTURE.md, Dispatch protocol):
// claim (pending → dispatching with an attempt id), the POST to GitHub, and
// marking the job triggered with its run. The reconciler resolves jobs left
// in between: it adopts the run of a job stuck in dispatching or returns the
// job to pending after a grace period, so no job is lost and none is sent
// twice.
//
// The reconciler (at start, every ReconcileInterval, and for one scope soon
// after ScheduleScope) replaces each scope's runners from the API, re-reads
// runs whose events are overdue, correlates runs dispatched without run
// details (GitHub Enterprise Server before 3.20), flags triggered runs that
// never start, and redelivers the App's failed webhook deliveries.
//
// Every change of our jobs' state goes through the queue service, which
// announces it; the dispatcher reads the database through the narrow Store
// interface declared here and writes only runner listings and GitHub-job
// bookkeeping (which GitHub jobs are ours, the queued jobs of a finished
// run) there (docs/ARCHITECTURE.md, "Job states").
//
// It imports core, store (for its types), queue and gh's request/response
// types; GitHub is reached only through the GitHub interface declared here,
// so tests hand it the real gh.Client on ghsim or a fake. It must never
// import server, handlers, events or slash: the events router calls into it
// (Wake, ScheduleScope) and the server asks for ReconcileNow.
package dispatcher
