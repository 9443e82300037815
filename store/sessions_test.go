package store_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleAdmin}, {"viewer", store.RoleReadonly}}); err != nil {
			t.Fatal(err)
		}
		const raw = "s3cr3t-session-token-never-stored"
		h := store.HashSecret(raw)
		created, err := s.CreateSession(ctx, store.Session{Hash: h, Username: "admin", ExpiresAt: clk.Now().Add(time.Hour), UserAgent: strings.Repeat("x", 511) + "é\xff" + strings.Repeat("x", 2000)})
		if err != nil {
			t.Fatal(err)
		}
		if created.Role != store.RoleAdmin || !created.CreatedAt.Equal(clk.Now()) || created.UserAgent != strings.Repeat("x", 511) {
			t.Fatalf("created = %+v, want admin role, clock time, user agent cut to 512 bytes of valid UTF-8", created)
		}

		t.Run("the raw token never reaches the database", func(t *testing.T) {
			var stored string
			if err := s.DB().Get(&stored, `SELECT id_hash FROM sessions`); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stored, raw) || strings.Contains(stored, hex.EncodeToString([]byte(raw))) || len(stored) != 64 {
				t.Fatalf("stored key %q is not a SHA-256 hex digest", stored)
			}
		})
		t.Run("a live session is returned and touched", func(t *testing.T) {
			clk.Advance(10 * time.Minute)
			if err := s.TouchSession(ctx, h); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetSession(ctx, h)
			if err != nil || got.Username != "admin" || !got.LastSeenAt.Equal(clk.Now()) {
				t.Fatalf("session = %+v err=%v, want admin last seen now", got, err)
			}
		})
		t.Run("an unknown token is not found", func(t *testing.T) {
			if _, err := s.GetSession(ctx, store.HashSecret("guess")); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
		t.Run("an expired session is not returned and is cleaned up", func(t *testing.T) {
			other := newSession(t, s, clk, "viewer") // expires 1h after now (later than h)
			clk.Advance(51 * time.Minute)            // h expired 1 minute ago
			if _, err := s.GetSession(ctx, h); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("expired session: %v, want ErrNotFound", err)
			}
			if _, err := s.GetSession(ctx, other); err != nil {
				t.Fatalf("live session: %v", err)
			}
			if n, err := s.DeleteExpiredSessions(ctx); err != nil || n != 1 {
				t.Fatalf("deleted %d expired (err %v), want 1", n, err)
			}
			if err := s.DeleteSession(ctx, other); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteSession(ctx, other); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("second logout: %v, want ErrNotFound", err)
			}
		})
		t.Run("all sessions of a user end together", func(t *testing.T) {
			a, b := newSession(t, s, clk, "viewer"), store.HashSecret("second device")
			if _, err := s.CreateSession(ctx, store.Session{Hash: b, Username: "viewer", ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if n, err := s.DeleteUserSessions(ctx, "viewer"); err != nil || n != 2 {
				t.Fatalf("deleted %d (err %v), want 2", n, err)
			}
			for _, x := range []store.SecretHash{a, b} {
				if _, err := s.GetSession(ctx, x); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("session after DeleteUserSessions: %v", err)
				}
			}
		})
		t.Run("bad sessions are refused", func(t *testing.T) {
			for name, sess := range map[string]store.Session{
				"zero hash":        {Username: "admin", ExpiresAt: clk.Now().Add(time.Hour)},
				"no user":          {Hash: store.HashSecret("a"), ExpiresAt: clk.Now().Add(time.Hour)},
				"already expired":  {Hash: store.HashSecret("b"), Username: "admin", ExpiresAt: clk.Now()},
				"unknown user (x)": {Hash: store.HashSecret("c"), Username: "ghost", ExpiresAt: clk.Now().Add(time.Hour)},
			} {
				if _, err := s.CreateSession(ctx, sess); err == nil {
					t.Fatalf("%s: accepted", name)
				}
			}
			if err := s.TouchSession(ctx, store.HashSecret("none")); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("touch unknown: %v", err)
			}
		})
	})
}

func TestCountLiveSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if err := s.UpsertGitHubUser(ctx, "octo", store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			t.Helper()
			n, err := s.CountLiveSessions(ctx, "octo")
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 0 {
			t.Fatalf("no sessions yet: %d", n)
		}
		newSession(t, s, clk, "octo")
		clk.Advance(30 * time.Minute)
		newSession(t, s, clk, "octo")
		if n := count(); n != 2 {
			t.Fatalf("two live sessions: %d", n)
		}
		clk.Advance(31 * time.Minute) // the first expired
		if n := count(); n != 1 {
			t.Fatalf("after one expired: %d, want 1", n)
		}
		if err := s.DisableUser(ctx, "octo"); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 0 {
			t.Fatalf("disabled user: %d, want 0", n)
		}
		if n, err := s.CountLiveSessions(ctx, "nobody"); err != nil || n != 0 {
			t.Fatalf("unknown user: %d %v", n, err)
		}
	})
}
