package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
)

// TestUpgradeEndsGitHubSessionsWithoutATokenHeld: sessions opened through
// GitHub before github_user_tokens existed have no token any replica could
// re-check them with, so the migration that adds the table ends them;
// password users' sessions stay.
func TestUpgradeEndsGitHubSessionsWithoutATokenHeld(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Driver: store.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.MigrateUpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{Username: "admin", Role: store.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertGitHubUser(ctx, "octo", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"admin", "octo"} {
		if _, err := s.CreateSession(ctx, store.Session{Hash: store.HashSecret("s-" + u), Username: u,
			ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]int{"admin": 1, "octo": 0} {
		if n, err := s.CountLiveSessions(ctx, u); err != nil || n != want {
			t.Fatalf("live sessions of %s after the upgrade: %d %v, want %d", u, n, err, want)
		}
	}
}
