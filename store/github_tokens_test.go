package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestGitHubUserTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clk := newFakeClock()
		s.SetClock(clk.Now)

		t.Run("a token is stored, replaced and forgotten", func(t *testing.T) {
			if _, err := s.GetGitHubUserToken(ctx, "octo"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("missing token: %v, want ErrNotFound", err)
			}
			v1 := []byte{0, 1, 0xff, 'x'}
			if err := s.PutGitHubUserToken(ctx, "octo", v1); err != nil {
				t.Fatal(err)
			}
			if got, err := s.GetGitHubUserToken(ctx, "octo"); err != nil || !bytes.Equal(got, v1) {
				t.Fatalf("get = %x %v, want %x", got, err, v1)
			}
			v2 := []byte("refreshed")
			if err := s.PutGitHubUserToken(ctx, "octo", v2); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.GetGitHubUserToken(ctx, "octo"); !bytes.Equal(got, v2) {
				t.Fatal("put did not replace the token")
			}
			if err := s.DeleteGitHubUserToken(ctx, "octo"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteGitHubUserToken(ctx, "octo"); err != nil {
				t.Fatalf("forgetting twice: %v", err)
			}
			if _, err := s.GetGitHubUserToken(ctx, "octo"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after delete: %v, want ErrNotFound", err)
			}
			if err := s.PutGitHubUserToken(ctx, "", v1); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("empty login: %v, want ErrInvalid", err)
			}
		})

		t.Run("a re-check is claimed once per interval", func(t *testing.T) {
			for _, l := range []string{"a", "b"} {
				if err := s.PutGitHubUserToken(ctx, l, []byte("t")); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := s.ClaimGitHubRechecks(ctx, time.Minute); err != nil || len(got) != 0 {
				t.Fatalf("claim right after login: %v %v, want none (login counts as a check)", got, err)
			}
			clk.Advance(time.Minute)
			got, err := s.ClaimGitHubRechecks(ctx, time.Minute)
			slices.Sort(got)
			if err != nil || !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("claim after a minute: %v %v, want [a b]", got, err)
			}
			if got, _ := s.ClaimGitHubRechecks(ctx, time.Minute); len(got) != 0 {
				t.Fatalf("second claim in the same instant: %v, want none", got)
			}
			clk.Advance(30 * time.Second)
			if err := s.PutGitHubUserToken(ctx, "b", []byte("t2")); err != nil { // b re-checked on a socket reconnect
				t.Fatal(err)
			}
			clk.Advance(30 * time.Second)
			if got, _ := s.ClaimGitHubRechecks(ctx, time.Minute); !slices.Equal(got, []string{"a"}) {
				t.Fatalf("claim after b's own check: %v, want [a]", got)
			}
		})

		t.Run("racing replicas claim each user once", func(t *testing.T) {
			clk.Advance(time.Hour)
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, err := s.ClaimGitHubRechecks(ctx, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for _, l := range got {
						seen[l]++
					}
				}()
			}
			wg.Wait()
			if seen["a"] != 1 || seen["b"] != 1 || len(seen) != 2 {
				t.Fatalf("claims across 8 racers: %v, want a and b once each", seen)
			}
		})
	})
}
