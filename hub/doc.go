// Package hub is the WebSocket hub: it pushes job_state, queue_update,
// group_update, runner_status and system_status messages to the dashboards
// as changes happen, and keeps the gauges that change with them (queue
// sizes, the runner fleet, job wait times, jobs finished). It is a
// dashboard of the events router (docs/ARCHITECTURE.md, "Event flow"):
// cmd subscribes it there, and the server mounts it behind its
// authentication and origin checks through a small interface (ServeWS,
// SetOrigins). Each socket carries the principal (session or API token)
// the server authenticated it as, so the server can close exactly the
// sockets of a credential that ended (Principals, CloseClients).
//
// Event methods never block the caller: events go through a bounded queue
// to one goroutine, and whole-table reads behind the gauges and
// queue_update are coalesced.
//
// hub imports core, store (for its read types), metrics, queue and events
// (only to assert it fits their interfaces). It must never import server,
// handlers, dispatcher or slash.
package hub
