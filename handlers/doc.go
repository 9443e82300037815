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
// Each handler is a thin adapter: decode the payload into go-github's type,
// take the installation id and a logger, call the domain, wrap the error.
// Our jobs are changed only through the queue service (the Jobs interface:
// AdvanceTx, NameRunnerTx, AttachRunTx, CheckLabelsTx, FinishTx), on
// the delivery's transaction, and their outcomes are emitted by the queue
// after the commit: the queue is the one announcer of job changes
// (docs/ARCHITECTURE.md, "Job states"). Runners and GitHub's own jobs are
// written here through the store's runner and GitHub-job methods. Anything
// else that reaches beyond the database (waking the dispatcher, scheduling
// a reconcile, runner changes for the dashboards, the App's bot login,
// metrics) goes through small interfaces declared here, implemented by the
// events router and cmd, and runs only after the transaction committed.
//
// handlers may import core, command (the decoded comment), store, queue and
// go-githubapp/go-github. It must never import server, dispatcher, events
// or slash (cmd wires them in through the interfaces declared here), nor
// talk to GitHub's REST API other than through those interfaces.
package handlers
