package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ethpandaops/dispatchoor/config"
)

// runMigrate applies every pending migration and reports the schema version.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("migrate", stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(ctx, c.config, config.NewLoadOptions())
	if err != nil {
		return fmt.Errorf("config %s:\n%w", c.config, err)
	}
	s, err := openStore(ctx, cfg.Database, true)
	if err != nil {
		return err
	}
	defer s.Close()
	cur, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database at schema version %d (latest %d)\n", cfg.Database.Driver, cur, latest)
	return nil
}
