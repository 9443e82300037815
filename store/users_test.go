package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestSyncBasicUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleAdmin}, {"viewer", store.RoleReadonly}}); err != nil {
			t.Fatal(err)
		}
		adminTok, viewerTok := newSession(t, s, clk, "admin"), newSession(t, s, clk, "viewer")

		t.Run("removed basic user is disabled and cannot use an existing session", func(t *testing.T) {
			res, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleAdmin}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Disabled, []string{"viewer"}) {
				t.Fatalf("disabled = %v, want [viewer]", res.Disabled)
			}
			if _, err := s.GetSession(ctx, viewerTok); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("viewer's session: %v, want ErrNotFound", err)
			}
			if u, err := s.GetUser(ctx, "viewer"); err != nil || !u.Disabled {
				t.Fatalf("viewer = %+v err=%v, want disabled", u, err)
			}
			if _, err := s.CreateSession(ctx, store.Session{Hash: store.HashSecret("again"), Username: "viewer", ExpiresAt: clk.Now().Add(time.Hour)}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("new session for a removed user: %v, want ErrNotFound", err)
			}
			if _, err := s.GetSession(ctx, adminTok); err != nil {
				t.Fatalf("admin's session was touched: %v", err)
			}
		})
		t.Run("a role change in the config applies to live sessions", func(t *testing.T) {
			if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleReadonly}}); err != nil {
				t.Fatal(err)
			}
			sess, err := s.GetSession(ctx, adminTok)
			if err != nil || sess.Role != store.RoleReadonly {
				t.Fatalf("session = %+v err=%v, want role readonly", sess, err)
			}
		})
		t.Run("a user put back in the config is enabled again", func(t *testing.T) {
			if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleAdmin}, {"viewer", store.RoleReadonly}}); err != nil {
				t.Fatal(err)
			}
			if u, _ := s.GetUser(ctx, "viewer"); u.Disabled {
				t.Fatal("viewer still disabled")
			}
		})
		t.Run("bad config is refused as a whole", func(t *testing.T) {
			for name, users := range map[string][]store.BasicUser{
				"unknown role":  {{"admin", "root"}},
				"empty name":    {{"", store.RoleAdmin}},
				"listed twice":  {{"a", store.RoleAdmin}, {"a", store.RoleReadonly}},
				"one bad of 2 ": {{"ok", store.RoleAdmin}, {"bad", "superuser"}},
			} {
				if _, err := s.SyncBasicUsers(ctx, users); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("%s: %v, want ErrInvalid", name, err)
				}
			}
			for _, name := range []string{"a", "ok", "bad"} {
				if u, err := s.GetUser(ctx, name); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("user %q after refused syncs = %+v err=%v, want ErrNotFound", name, u, err)
				}
			}
			for _, name := range []string{"admin", "viewer"} {
				if u, err := s.GetUser(ctx, name); err != nil || u.Disabled {
					t.Fatalf("user %q after refused syncs = %+v err=%v, want it kept and enabled", name, u, err)
				}
			}
		})
	})
}

func TestGitHubUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleAdmin}}); err != nil {
			t.Fatal(err)
		}
		t.Run("a GitHub login cannot take over a basic user", func(t *testing.T) {
			if err := s.UpsertGitHubUser(ctx, "admin", store.RoleAdmin); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
			if u, _ := s.GetUser(ctx, "admin"); u.Source != store.UserSourceBasic {
				t.Fatalf("admin source = %q, want basic", u.Source)
			}
		})
		t.Run("GitHub user is created, updated, disabled and enabled by the next login", func(t *testing.T) {
			if err := s.UpsertGitHubUser(ctx, "octocat", store.RoleReadonly); err != nil {
				t.Fatal(err)
			}
			if err := s.UpsertGitHubUser(ctx, "octocat", store.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			tok := newSession(t, s, clk, "octocat")
			if sess, err := s.GetSession(ctx, tok); err != nil || sess.Role != store.RoleAdmin {
				t.Fatalf("session = %+v err=%v", sess, err)
			}
			if err := s.DisableUser(ctx, "octocat"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetSession(ctx, tok); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("session of disabled user: %v, want ErrNotFound", err)
			}
			if err := s.UpsertGitHubUser(ctx, "octocat", store.RoleReadonly); err != nil {
				t.Fatal(err)
			}
			if u, _ := s.GetUser(ctx, "octocat"); u.Disabled || u.Role != store.RoleReadonly || u.Source != store.UserSourceGitHub {
				t.Fatalf("octocat = %+v", u)
			}
		})
		t.Run("config takes a name back from a GitHub user and ends its sessions", func(t *testing.T) {
			if err := s.UpsertGitHubUser(ctx, "ops", store.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			tok := newSession(t, s, clk, "ops")
			if _, err := s.SyncBasicUsers(ctx, []store.BasicUser{{"admin", store.RoleAdmin}, {"ops", store.RoleReadonly}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetSession(ctx, tok); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("GitHub user's session after takeover: %v, want ErrNotFound", err)
			}
			if u, _ := s.GetUser(ctx, "ops"); u.Source != store.UserSourceBasic {
				t.Fatalf("ops source = %q, want basic", u.Source)
			}
		})
		for name, err := range map[string]error{
			"unknown role":          s.UpsertGitHubUser(ctx, "x", "owner"),
			"empty name":            s.UpsertGitHubUser(ctx, "", store.RoleAdmin),
			"disable unknown user":  s.DisableUser(ctx, "nobody"),
			"get unknown user (nf)": func() error { _, err := s.GetUser(ctx, "nobody"); return err }(),
		} {
			if err == nil {
				t.Fatalf("%s: accepted, want an error", name)
			}
		}
	})
}

// newSession creates a one-hour session for user and returns its hash.
func newSession(t *testing.T, s *store.Store, clk *fakeClock, user string) store.SecretHash {
	t.Helper()
	h := store.HashSecret("token-of-" + user + clk.Now().String())
	if _, err := s.CreateSession(context.Background(), store.Session{Hash: h, Username: user, ExpiresAt: clk.Now().Add(time.Hour), UserAgent: "test"}); err != nil {
		t.Fatalf("create session for %s: %v", user, err)
	}
	return h
}
