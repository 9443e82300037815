// Package handlers receives GitHub's webhooks at /api/github/hook and turns
// them into store changes: runner busy/idle and GitHub-side demand from
// workflow_job, our jobs' progress (and GHES run correlation) from
// workflow_run, installations and their repositories from installation and
// installation_repositories, and ping.
//
// GitHub neither orders nor retries its deliveries by itself, so every
// delivery is verified (HMAC-SHA256), recorded by its X-GitHub-Delivery id
// and applied in the same transaction before the 2xx reply: a duplicate is
// acknowledged and not applied again, and a delivery that fails to apply
// leaves nothing behind (not even its record), answers 5xx and is applied
// when the reconciler's sweeper has it redelivered. Webhooks are hints applied
// monotonically; the reconciler repairs what they miss.
//
// Anything that reaches beyond the database (waking the dispatcher,
// scheduling a reconcile, finishing a job through the queue service, the
// App's bot login, metrics) goes through small interfaces declared here and
// runs only after the transaction committed.
//
// handlers may import core, store, queue and go-githubapp/go-github. It must
// never import server or dispatcher (they import it), nor talk to GitHub's
// REST API other than through the interfaces it declares.
package handlers
