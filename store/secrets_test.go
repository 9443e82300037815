package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if _, err := s.GetSecret(ctx, "github_app"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing secret: %v, want ErrNotFound", err)
		}
		// Sealed values are arbitrary bytes, NULs and invalid UTF-8 included.
		v1 := []byte{0, 1, 0xff, 0xfe, 0, 'x'}
		if err := s.PutSecret(ctx, "github_app", v1); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetSecret(ctx, "github_app"); err != nil || !bytes.Equal(got, v1) {
			t.Fatalf("get = %x %v, want %x", got, err, v1)
		}
		v2 := bytes.Repeat([]byte{0xab}, 4096)
		if err := s.PutSecret(ctx, "github_app", v2); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetSecret(ctx, "github_app"); !bytes.Equal(got, v2) {
			t.Fatal("put did not replace the value")
		}
		for name, err := range map[string]error{
			"empty key":   s.PutSecret(ctx, "", v1),
			"empty value": s.PutSecret(ctx, "k", nil),
		} {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
}
