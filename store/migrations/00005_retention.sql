-- +goose Up
-- The audit log is pruned by age (store/prune.go); without this index each
-- hourly prune would scan the whole log.
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP INDEX audit_log_at;
