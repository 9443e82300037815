-- +goose Up
-- The OAuth tokens of users who logged in through GitHub, sealed by
-- secretbox before they get here, so that any replica (and a restarted one)
-- can ask GitHub again whether each user still holds a mapped org or team
-- (docs/API.md, "GitHub membership re-check"). checked_at is when a replica
-- last claimed the user's re-check: claiming is a conditional update, so
-- one re-check per user per interval happens across all replicas. A row
-- lives while its user has a live session (docs/RELIABILITY.md, "Bounded
-- tables").
CREATE TABLE github_user_tokens (
    login      TEXT PRIMARY KEY,
    sealed     {{BLOB}} NOT NULL,
    checked_at {{TIME}} NOT NULL,
    updated_at {{TIME}} NOT NULL
);

-- Sessions opened through GitHub before this table existed have no token
-- held anywhere but in the memory of the process that served the login,
-- so nothing could re-check them: they end, and those users log in once
-- more.
DELETE FROM sessions WHERE username IN (SELECT username FROM users WHERE source = 'github');

-- +goose Down
DROP TABLE github_user_tokens;
