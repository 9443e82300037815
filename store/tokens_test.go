package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestAPITokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)
		ciHash := store.HashSecret("raw-ci-token")
		ci, err := s.CreateToken(ctx, store.NewToken{Name: "ci", Role: store.RoleAdmin, Hash: ciHash, CreatedBy: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		if ci.ID == 0 || ci.Name != "ci" || ci.Role != store.RoleAdmin || ci.CreatedBy != "admin" || !ci.CreatedAt.Equal(clk.Now()) || ci.LastUsedAt != nil || ci.RevokedAt != nil {
			t.Fatalf("created = %+v", ci)
		}

		t.Run("a live token is found by its hash and its use recorded", func(t *testing.T) {
			clk.Advance(time.Minute)
			got, err := s.GetTokenByHash(ctx, ciHash)
			if err != nil || got.ID != ci.ID {
				t.Fatalf("by hash: %+v %v", got, err)
			}
			if live, err := s.GetLiveToken(ctx, ci.ID); err != nil || live.ID != ci.ID {
				t.Fatalf("live by id: %+v %v", live, err)
			}
			if err := s.TouchToken(ctx, got.ID); err != nil {
				t.Fatal(err)
			}
			got, _ = s.GetTokenByHash(ctx, ciHash)
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(clk.Now()) {
				t.Fatalf("last used = %v, want %v", got.LastUsedAt, clk.Now())
			}
		})
		t.Run("a live name or a known hash cannot be used twice", func(t *testing.T) {
			for name, nt := range map[string]store.NewToken{
				"same name":  {Name: "ci", Role: store.RoleReadonly, Hash: store.HashSecret("other"), CreatedBy: "admin"},
				"same token": {Name: "deploy", Role: store.RoleReadonly, Hash: ciHash, CreatedBy: "admin"},
			} {
				if _, err := s.CreateToken(ctx, nt); !errors.Is(err, store.ErrDuplicate) {
					t.Fatalf("%s: %v, want ErrDuplicate", name, err)
				}
			}
		})
		t.Run("the list never carries hashes", func(t *testing.T) {
			list, err := s.ListTokens(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("list = %+v %v", list, err)
			}
			b, _ := json.Marshal(list)
			var stored string
			if err := s.DB().Get(&stored, `SELECT token_hash FROM api_tokens`); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), stored) || strings.Contains(string(b), "hash") {
				t.Fatalf("token list JSON exposes the hash: %s", b)
			}
		})
		t.Run("a revoked token is not returned and frees its name", func(t *testing.T) {
			rev, err := s.RevokeToken(ctx, ci.ID)
			if err != nil || rev.RevokedAt == nil {
				t.Fatalf("revoke: %+v %v", rev, err)
			}
			if _, err := s.GetTokenByHash(ctx, ciHash); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("revoked token by hash: %v, want ErrNotFound", err)
			}
			if _, err := s.GetLiveToken(ctx, ci.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("revoked token by id: %v, want ErrNotFound", err)
			}
			if _, err := s.RevokeToken(ctx, ci.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("second revoke: %v, want ErrNotFound", err)
			}
			again, err := s.CreateToken(ctx, store.NewToken{Name: "ci", Role: store.RoleReadonly, Hash: store.HashSecret("new-ci"), CreatedBy: "admin"})
			if err != nil {
				t.Fatalf("name of a revoked token: %v, want reusable", err)
			}
			list, _ := s.ListTokens(ctx)
			if len(list) != 2 || list[0].ID != again.ID || list[1].RevokedAt == nil {
				t.Fatalf("list = %+v, want new token first, then the revoked one", list)
			}
		})
		t.Run("bad tokens are refused", func(t *testing.T) {
			for name, nt := range map[string]store.NewToken{
				"no name":    {Role: store.RoleAdmin, Hash: store.HashSecret("1"), CreatedBy: "a"},
				"long name":  {Name: strings.Repeat("n", 101), Role: store.RoleAdmin, Hash: store.HashSecret("2"), CreatedBy: "a"},
				"bad role":   {Name: "x", Role: "god", Hash: store.HashSecret("3"), CreatedBy: "a"},
				"zero hash":  {Name: "x", Role: store.RoleAdmin, CreatedBy: "a"},
				"no creator": {Name: "x", Role: store.RoleAdmin, Hash: store.HashSecret("4")},
			} {
				if _, err := s.CreateToken(ctx, nt); !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("%s: %v, want ErrInvalid", name, err)
				}
			}
			if err := s.TouchToken(ctx, 12345); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("touch unknown: %v", err)
			}
		})
	})
}
