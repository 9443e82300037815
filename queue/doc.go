// Package queue is the one place where jobs enter, move through and leave a
// group's queue. The REST API, the /dispatch slash-commands and the
// dispatcher all go through its Service, so validation, auto-requeue and the
// change notifications (dispatcher wake-ups, WebSocket updates) happen the
// same way whoever asked.
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
