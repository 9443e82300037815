// Package queue is the one owner of our jobs' state: the one place where
// jobs enter, move through and leave a group's queue, and where their run,
// runner, label-mismatch and error fields are recorded. The REST API, the
// /dispatch slash-commands, the dispatcher and the webhook handlers all go
// through its Service, so validation, auto-requeue and the change
// notifications (dispatcher wake-ups, WebSocket updates) happen the same way
// whoever asked, and only the queue announces job changes (Events).
//
// A webhook delivery applies its change on its own transaction through the
// ...Tx methods, which announce nothing: the caller passes each Outcome to
// Emit after its commit.
//
// Every state change is a conditional update in the store; a lost race comes
// back as store.ErrConflict, a step the state machine refuses as
// core.ErrTransition, bad input as *ValidationError, an unknown id as
// store.ErrNotFound. Events are emitted only after the change committed.
//
// It imports core and store. It must never import server, dispatcher,
// handlers or gh: GitHub is reached only through the Canceller interface
// declared here.
package queue
