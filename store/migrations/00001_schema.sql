-- +goose Up
-- Written once for both dialects; {{ID}}, {{TIME}}, {{BLOB}} and {{FLOAT}}
-- are rendered per driver by migrate.go.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE meta;
