-- +goose Up
-- Written once for both dialects; {{ID}}, {{TIME}}, {{BLOB}} and {{FLOAT}}
-- are rendered per driver by migrate.go. JSON values (runner_labels, inputs,
-- labels) are TEXT holding JSON in both databases.

-- Groups come from the config (SyncConfig); paused is runtime state that a
-- config reload keeps. A group removed from the config is disabled, never
-- deleted, so its jobs and history stay visible.
CREATE TABLE groups (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    runner_labels  TEXT NOT NULL DEFAULT '[]',
    runner_scope   TEXT NOT NULL DEFAULT '',
    max_concurrent INTEGER NOT NULL DEFAULT 0 CHECK (max_concurrent >= 0),
    paused         BOOLEAN NOT NULL DEFAULT FALSE,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at     {{TIME}} NOT NULL
);

CREATE TABLE templates (
    id              TEXT PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES groups (id),
    name            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    repo            TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    ref             TEXT NOT NULL,
    inputs          TEXT NOT NULL DEFAULT '{}',
    labels          TEXT NOT NULL DEFAULT '{}',
    source_kind     TEXT NOT NULL DEFAULT 'inline',
    source_location TEXT NOT NULL DEFAULT '',
    label_mismatch  TEXT NOT NULL DEFAULT '',
    updated_at      {{TIME}} NOT NULL
);
CREATE INDEX templates_group ON templates (group_id);

-- template_id is plain text, not a foreign key: templates removed from the
-- config are deleted, and the jobs made from them must survive that.
-- position only orders pending jobs; it is a gapped float so that moving one
-- job writes one row (store/queue.go).
CREATE TABLE jobs (
    id               {{ID}},
    group_id         TEXT NOT NULL REFERENCES groups (id),
    template_id      TEXT,
    name             TEXT NOT NULL,
    owner            TEXT NOT NULL,
    repo             TEXT NOT NULL,
    workflow_id      TEXT NOT NULL,
    ref              TEXT NOT NULL,
    inputs           TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL CHECK (status IN
        ('pending', 'dispatching', 'triggered', 'running', 'completed', 'failed', 'cancelled')),
    paused           BOOLEAN NOT NULL DEFAULT FALSE,
    position         {{FLOAT}} NOT NULL,
    auto_requeue     BOOLEAN NOT NULL DEFAULT FALSE,
    requeue_limit    INTEGER NOT NULL DEFAULT 0 CHECK (requeue_limit >= 0),
    requeue_count    INTEGER NOT NULL DEFAULT 0 CHECK (requeue_count >= 0),
    attempt_id       TEXT,
    run_id           BIGINT,
    run_url          TEXT NOT NULL DEFAULT '',
    runner_name      TEXT NOT NULL DEFAULT '',
    conclusion       TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL CHECK (source IN ('ui', 'api', 'comment')),
    source_url       TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    dispatch_after   {{TIME}},
    created_at       {{TIME}} NOT NULL,
    updated_at       {{TIME}} NOT NULL,
    dispatching_at   {{TIME}},
    triggered_at     {{TIME}},
    started_at       {{TIME}},
    completed_at     {{TIME}},
    -- Only pending jobs carry the paused flag; a terminal job has an end time.
    CHECK (paused = FALSE OR status = 'pending'),
    CHECK ((completed_at IS NOT NULL) = (status IN ('completed', 'failed', 'cancelled')))
);
-- The pending queue of a group in order.
CREATE INDEX jobs_queue ON jobs (group_id, status, position, id);
-- Active jobs for the dispatcher and the reconciler.
CREATE INDEX jobs_status ON jobs (status);
-- History of a group, newest first.
CREATE INDEX jobs_history ON jobs (group_id, completed_at, id);
-- One run belongs to one job, one dispatch attempt to one job: a second
-- replica adopting the same run fails on these instead of double-counting.
CREATE UNIQUE INDEX jobs_run_id ON jobs (run_id) WHERE run_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_attempt_id ON jobs (attempt_id) WHERE attempt_id IS NOT NULL;

-- The template's free-form labels copied onto the job, for the history filter.
CREATE TABLE job_labels (
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (job_id, key)
);
CREATE INDEX job_labels_key_value ON job_labels (key, value);

-- +goose Down
DROP TABLE job_labels;
DROP TABLE jobs;
DROP TABLE templates;
DROP TABLE groups;
