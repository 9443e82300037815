package main

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store"
)

// openStore opens the configured database, migrating it when asked.
func openStore(ctx context.Context, db config.Database, migrate bool) (*store.Store, error) {
	opts := store.Options{Driver: store.Driver(db.Driver), Migrate: migrate}
	switch db.Driver {
	case config.DriverPostgres:
		opts.PostgresDSN = db.Postgres.ConnString()
	default:
		opts.SQLitePath = db.SQLite.Path
	}
	s, err := store.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return s, nil
}
