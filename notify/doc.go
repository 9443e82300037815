// Package notify carries events between replicas, so that a webhook or an
// API call served by one replica wakes the leader's dispatcher and reaches
// the WebSocket clients of every replica.
//
// A Bus delivers to its subscribers the events published by OTHER
// replicas; a replica handles its own events directly (the dispatcher's
// Wake and the hub's methods are in-process calls) and publishes them for
// the rest. Two implementations share that contract:
//
//   - Postgres, over LISTEN/NOTIFY. Events are JSON under PostgreSQL's 8000
//     byte limit; a larger one loses its Payload (Truncated is set) and keeps
//     its ids, so receivers re-read the database. The listener reconnects
//     after a dropped connection and then delivers a KindResync event,
//     because notifications sent while it was away are gone for good.
//   - Local, in-process, for SQLite (one replica: nobody else to tell) and
//     for tests that run several replicas in one process.
//
// Events are hints, never the truth: the database is. A lost event costs
// latency (the dispatcher's safety tick, a dashboard refresh), never
// correctness.
//
// It imports nothing of this module; dispatcher, server and handlers must
// not be imported here — cmd subscribes them.
package notify
