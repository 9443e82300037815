// Package events routes the product's change notifications on this replica
// and to the other replicas (docs/ARCHITECTURE.md, "Event flow").
//
// A Router is built first, before the queue service, the dispatcher, the
// slash-command service and the WebSocket hub: the queue (the only
// announcer of job, queue and group changes), the webhook handlers and the
// reconciler (runner changes, wake-ups, scope re-listings) publish to it,
// and listeners subscribe to it afterwards, so nothing has to be wired
// later through setters.
//
// Local listeners are called synchronously, in the order events arrive, on
// the publisher's goroutine; they must return quickly (queue the work).
// Publishing to other replicas (notify.Bus, PostgreSQL NOTIFY) goes through
// a bounded queue drained by one goroutine, so no API call or webhook
// delivery ever waits on the database's notification channel. When the
// queue is full the event is dropped and counted: events are hints and the
// database is the truth (see package notify). Events from other replicas
// are applied here too: a job is re-read before it is shown, the
// dispatcher is woken and a scope hint is scheduled.
//
// events imports core and notify. It must never import server, handlers,
// dispatcher, slash, queue or store: they, or cmd, depend on it.
package events
