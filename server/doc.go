// Package server is dispatchoor's HTTP surface: the /api/v1 REST API (one
// file per resource: api_groups.go, api_queue.go, api_jobs.go, ...), auth
// (basic users, GitHub OAuth, hashed sessions and API tokens, RBAC, CSRF,
// CORS, per-client rate limits), the WebSocket route (authenticated and
// origin-checked here, then handed to the hub through the WebSocketHub
// interface), /metrics, the probes (/health, /healthz for liveness, /readyz
// for readiness: probes.go) and the embedded OpenAPI description. routes.go
// is the single route table that the
// access-matrix and OpenAPI tests walk.
//
// Setup mode's routes (/setup, /api/v1/setup/...) are in the route table as
// public; the mounted setup handler does its own admin check through
// (*Server).AuthorizeAdmin, and the webhook route answers 503 until
// Options.WebhooksReady says the App is configured.
//
// Nothing imports server except cmd. It must never import cmd, handlers,
// dispatcher, events or setup: those are reached through the small
// interfaces declared here (Reconciler, TemplateReloader, StatusSource,
// RateLimitSource, WebSocketHub) and the webhook and setup http.Handlers, so
// tests hand it fakes. It imports hub only to build a default hub when
// Options.Hub is nil.
package server
