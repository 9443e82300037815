// Package gh is dispatchoor's GitHub edge: everything that talks to GitHub's
// REST API on behalf of the App. It builds installation clients with
// go-githubapp's caching ClientCreator (the App's JWT for app-level calls,
// short-lived installation tokens for everything else; never a personal
// access token), and offers plain, context-first methods for what the rest of
// dispatchoor needs: installation lookup, runner listing, workflow dispatch
// (with the GitHub Enterprise Server fallback for return_run_details), runs,
// comments, reactions, permissions and webhook-delivery sweeping.
//
// Every HTTP response is reported to an Observer (endpoint template, status,
// installation, rate-limit figures) so metrics and /status can follow API
// usage, and idempotent requests are retried with back-off on 5xx and rate
// limits. Errors come back classified (APIError, IsTransient, IsPermanent,
// RetryAfter) so callers can decide between waiting and failing a job.
//
// handlers/ and dispatcher/ declare the small interfaces they need; *Client
// satisfies them. This package may import core/ and clock and nothing else of ours: it
// must never import handlers, dispatcher, server or store.
package gh
