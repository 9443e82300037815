package store_test

import (
	"context"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		v1, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		cur, latest, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != v1 || cur != latest || cur < 1 {
			t.Fatalf("version after migrate = %d (migrate said %d), latest embedded %d", cur, v1, latest)
		}
	})
}

func TestOpenRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]store.Options{
		"unknown driver":   {Driver: "mysql"},
		"in-memory sqlite": {Driver: store.DriverSQLite, SQLitePath: ":memory:"},
		"empty postgres":   {Driver: store.DriverPostgres},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := store.Open(context.Background(), opts); err == nil {
				_ = s.Close()
				t.Fatal("open succeeded, want an error")
			}
		})
	}
}
