-- +goose Up
-- The jobs the dispatcher may take now, per group (DispatchableCounts in
-- store/queue_counts.go). Partial, so paused jobs, terminal history and
-- active jobs never enter it, and ordered by dispatch_after so that "not
-- backing off" is an index range: NULL (never backed off) is one range,
-- "due by now" another. Without it a capped count walks jobs_queue through
-- every paused or backing-off job at the front of a 100,000-job queue.
CREATE INDEX jobs_dispatchable ON jobs (group_id, dispatch_after)
    WHERE status = 'pending' AND paused = FALSE;

-- +goose Down
DROP INDEX jobs_dispatchable;
