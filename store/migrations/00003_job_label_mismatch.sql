-- +goose Up
-- A job whose run's workflow_job asked for runs-on labels no runner of its
-- group has (DESIGN.md §5) carries the reason here, beside the template's own
-- flag: the template says "this workflow is misconfigured", the job says
-- "this run is waiting in GitHub's queue for a runner we do not have". NULL
-- when there is nothing to say. Plain ALTER TABLE works on both dialects.
ALTER TABLE jobs ADD COLUMN label_mismatch TEXT;

-- +goose Down
ALTER TABLE jobs DROP COLUMN label_mismatch;
