package secretbox_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/secretbox"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newBox(t testing.TB, key []byte) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	b := newBox(t, newKey(t))
	for name, pt := range map[string][]byte{
		"empty":       {},
		"pem":         []byte("-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n"),
		"binary":      {0, 0xff, 0, 1},
		"large value": bytes.Repeat([]byte("x"), 1<<16),
	} {
		t.Run(name, func(t *testing.T) {
			sealed, err := b.Seal(pt, []byte("github_app_private_key"))
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != len(pt)+secretbox.Overhead {
				t.Fatalf("sealed %d bytes, want %d", len(sealed), len(pt)+secretbox.Overhead)
			}
			if len(pt) > 8 && bytes.Contains(sealed, pt[:8]) {
				t.Fatal("plaintext visible in the sealed value")
			}
			got, err := b.Open(sealed, []byte("github_app_private_key"))
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("open = %q %v", got, err)
			}
		})
	}
}

func TestSealUsesAFreshNonceEachTime(t *testing.T) {
	b := newBox(t, newKey(t))
	seen := map[string]bool{}
	for range 100 {
		s, err := b.Seal([]byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(s)] {
			t.Fatal("two seals of the same plaintext are identical: nonce reused")
		}
		seen[string(s)] = true
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	key := newKey(t)
	b := newBox(t, key)
	sealed, err := b.Seal([]byte("webhook-secret"), []byte("webhook_secret"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	cases := map[string]struct {
		box    *secretbox.Box
		sealed []byte
		ad     string
	}{
		"flipped version byte":      {b, flip(0), "webhook_secret"},
		"flipped nonce bit":         {b, flip(3), "webhook_secret"},
		"flipped ciphertext bit":    {b, flip(len(sealed) - 20), "webhook_secret"},
		"flipped tag bit":           {b, flip(len(sealed) - 1), "webhook_secret"},
		"truncated":                 {b, sealed[:len(sealed)-1], "webhook_secret"},
		"shorter than the overhead": {b, sealed[:secretbox.Overhead-1], "webhook_secret"},
		"empty":                     {b, nil, "webhook_secret"},
		"other additional data":     {b, sealed, "github_app_private_key"},
		"other key":                 {newBox(t, newKey(t)), sealed, "webhook_secret"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if pt, err := tc.box.Open(tc.sealed, []byte(tc.ad)); !errors.Is(err, secretbox.ErrOpen) || pt != nil {
				t.Fatalf("open = %q %v, want ErrOpen", pt, err)
			}
		})
	}
	if _, err := b.Open(sealed, []byte("webhook_secret")); err != nil {
		t.Fatalf("the untouched value no longer opens: %v", err)
	}
}

func TestNewRefusesWrongKeySizes(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := secretbox.New(make([]byte, n)); err == nil {
			t.Fatalf("%d-byte key accepted", n)
		}
	}
}

func TestKeyFromEnv(t *testing.T) {
	key := newKey(t)
	cases := []struct {
		name    string
		value   string
		want    []byte
		wantErr string
	}{
		{"hex key", hex.EncodeToString(key), key, ""},
		{"upper-case hex key", strings.ToUpper(hex.EncodeToString(key)), key, ""},
		{"padded base64 key", base64.StdEncoding.EncodeToString(key), key, ""},
		{"unpadded base64 key", base64.RawStdEncoding.EncodeToString(key), key, ""},
		{"URL-alphabet base64 key", base64.RawURLEncoding.EncodeToString(key), key, ""},
		{"whitespace around the key is ignored", "  " + base64.StdEncoding.EncodeToString(key) + "\n", key, ""},
		{"empty says which variable to set", "", nil, "set DISPATCHOOR_SECRET_KEY"},
		{"blank says which variable to set", " \t", nil, "set DISPATCHOOR_SECRET_KEY"},
		{"16-byte key is too short", base64.StdEncoding.EncodeToString(key[:16]), nil, "decodes to 16 bytes"},
		{"passphrase is refused", "correct horse battery staple!", nil, "neither 64 hex digits nor base64"},
		{"63 hex digits", hex.EncodeToString(key)[:63], nil, "DISPATCHOOR_SECRET_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := secretbox.KeyFromEnv(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				if strings.TrimSpace(tc.value) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.value)) {
					t.Fatalf("error %q repeats the secret value", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("key = %x %v, want %x", got, err, tc.want)
			}
		})
	}
}

func FuzzKeyFromEnv(f *testing.F) {
	f.Add("")
	f.Add(strings.Repeat("ab", 32))
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add("not a key at all")
	f.Fuzz(func(t *testing.T, v string) {
		k, err := secretbox.KeyFromEnv(v)
		if err != nil {
			if k != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		if len(k) != secretbox.KeySize {
			t.Fatalf("accepted %q as a %d-byte key", v, len(k))
		}
		if _, err := secretbox.New(k); err != nil {
			t.Fatalf("accepted key unusable: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	key := make([]byte, secretbox.KeySize)
	b, err := secretbox.New(key)
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := b.Seal([]byte("hello"), []byte("ad"))
	f.Add(sealed, []byte("ad"))
	f.Add([]byte{1}, []byte(nil))
	f.Fuzz(func(t *testing.T, in, ad []byte) {
		pt, err := b.Open(in, ad)
		if err != nil {
			if !errors.Is(err, secretbox.ErrOpen) || pt != nil {
				t.Fatalf("open failed with %v (plaintext %q), want ErrOpen and nothing", err, pt)
			}
			return
		}
		// Only a genuine seal opens: whatever opened must re-open identically.
		again, err := b.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := b.Open(again, ad); err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("round trip of opened value failed: %v", err)
		}
	})
}
