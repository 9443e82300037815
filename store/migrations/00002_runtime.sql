-- +goose Up
-- Runtime state learned from GitHub and the operators: runners, GitHub's view
-- of workflow jobs, webhook deliveries, installations, users, sessions, API
-- tokens, the audit log and encrypted secrets. Written once for both dialects
-- ({{ID}}, {{TIME}}, {{BLOB}} are rendered by migrate.go). Nothing here has a
-- foreign key into the queue tables of 00001, so the halves evolve separately.

-- Self-hosted runners as GitHub lists them. id is GitHub's runner id.
-- current_job_id is the GitHub workflow job id the runner is busy with (NULL
-- when idle or when it is busy with a job we never heard of).
CREATE TABLE runners (
    id              BIGINT PRIMARY KEY,
    name            TEXT NOT NULL,
    scope           TEXT NOT NULL,
    labels          TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('online', 'offline')),
    busy            BOOLEAN NOT NULL DEFAULT FALSE,
    ephemeral       BOOLEAN NOT NULL DEFAULT FALSE,
    current_job_id  BIGINT,
    installation_id BIGINT,
    updated_at      {{TIME}} NOT NULL,
    seen_at         {{TIME}} NOT NULL
);
CREATE INDEX runners_scope ON runners (scope);

-- GitHub's latest known state per workflow job id. status_rank makes the
-- monotonic rule a plain comparison: requested/pending/queued/waiting 0,
-- in_progress 1, completed 2. job_id is our dispatchoor job id when the run
-- is one of ours (deliberately no foreign key).
CREATE TABLE github_jobs (
    id            BIGINT PRIMARY KEY,
    run_id        BIGINT NOT NULL,
    run_attempt   INTEGER NOT NULL DEFAULT 1,
    repo          TEXT NOT NULL,
    workflow_name TEXT NOT NULL DEFAULT '',
    labels        TEXT NOT NULL DEFAULT '[]',
    status        TEXT NOT NULL CHECK (status IN ('requested', 'pending', 'queued', 'waiting', 'in_progress', 'completed')),
    status_rank   INTEGER NOT NULL,
    conclusion    TEXT NOT NULL DEFAULT '',
    runner_id     BIGINT,
    runner_name   TEXT NOT NULL DEFAULT '',
    head_branch   TEXT NOT NULL DEFAULT '',
    job_id        BIGINT,
    updated_at    {{TIME}} NOT NULL
);
CREATE INDEX github_jobs_status ON github_jobs (status_rank, updated_at);
CREATE INDEX github_jobs_run ON github_jobs (run_id);

-- Every X-GitHub-Delivery id applied; the primary key is what makes a
-- redelivered or duplicated webhook a no-op, also across replicas.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    action      TEXT NOT NULL DEFAULT '',
    received_at {{TIME}} NOT NULL
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);

-- GitHub App installations. Deleted ones are kept (flagged) for the record.
CREATE TABLE installations (
    id                   BIGINT PRIMARY KEY,
    account_login        TEXT NOT NULL,
    account_type         TEXT NOT NULL DEFAULT 'Organization',
    repository_selection TEXT NOT NULL DEFAULT 'all' CHECK (repository_selection IN ('all', 'selected')),
    suspended_at         {{TIME}},
    deleted              BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at           {{TIME}} NOT NULL
);
CREATE INDEX installations_login ON installations (LOWER(account_login));

-- Repositories of installations with repository_selection "selected".
-- owner and repo are stored lower-cased: GitHub compares them that way.
CREATE TABLE installation_repos (
    installation_id BIGINT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    owner           TEXT NOT NULL,
    repo            TEXT NOT NULL,
    PRIMARY KEY (installation_id, owner, repo)
);
CREATE INDEX installation_repos_repo ON installation_repos (owner, repo);

CREATE TABLE users (
    username   TEXT PRIMARY KEY,
    source     TEXT NOT NULL CHECK (source IN ('basic', 'github')),
    role       TEXT NOT NULL CHECK (role IN ('admin', 'readonly')),
    disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{TIME}} NOT NULL,
    updated_at {{TIME}} NOT NULL
);

-- Sessions are keyed by the hex SHA-256 of the cookie token; the token itself
-- never reaches the database.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created_at   {{TIME}} NOT NULL,
    expires_at   {{TIME}} NOT NULL,
    last_seen_at {{TIME}} NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (username);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API tokens for automation, stored hashed like sessions. A name is unique
-- among live tokens so "token:<name>" in the audit log is unambiguous.
CREATE TABLE api_tokens (
    id           {{ID}},
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'readonly')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   {{TIME}} NOT NULL,
    last_used_at {{TIME}},
    revoked_at   {{TIME}}
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    id          {{ID}},
    at          {{TIME}} NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    client_addr TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- Secrets (e.g. the App credentials from setup mode), sealed by secretbox
-- before they get here.
CREATE TABLE secrets (
    key        TEXT PRIMARY KEY,
    value      {{BLOB}} NOT NULL,
    updated_at {{TIME}} NOT NULL
);

-- +goose Down
DROP TABLE secrets;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE installation_repos;
DROP TABLE installations;
DROP TABLE webhook_deliveries;
DROP TABLE github_jobs;
DROP TABLE runners;
