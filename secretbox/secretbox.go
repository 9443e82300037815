package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EnvVar names the environment variable that holds the key.
const EnvVar = "DISPATCHOOR_SECRET_KEY"

// KeySize is the key length: AES-256.
const KeySize = 32

// version prefixes every sealed value so the format (or the key, with a
// future key id) can change without guessing what old values are.
const version byte = 1

const nonceSize = 12 // GCM's standard nonce

// Overhead is how many bytes Seal adds to the plaintext.
const Overhead = 1 + nonceSize + 16

// ErrOpen: a sealed value could not be opened. It was tampered with, sealed
// under another key or other additional data, or is not a sealed value.
var ErrOpen = errors.New("secretbox: cannot open sealed value (wrong key, wrong additional data or tampered)")

// Box seals and opens values with one key. Safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New makes a Box from a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: gcm: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext. additionalData is authenticated but not stored;
// pass the name the value is stored under so a sealed value copied to
// another name does not open. Every call uses a fresh random nonce (random
// 96-bit nonces are safe for far more values than this App will ever seal).
func (b *Box) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, additionalData), nil
}

// Open decrypts what Seal produced with the same key and additionalData.
// Any other input yields ErrOpen.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < Overhead || sealed[0] != version {
		return nil, ErrOpen
	}
	nonce, ct := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	pt, err := b.aead.Open(nil, nonce, ct, additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// KeyFromEnv decodes the value of DISPATCHOOR_SECRET_KEY: 32 bytes written as
// 64 hex digits or as base64 (standard or URL alphabet, padded or not).
// Surrounding whitespace is ignored. The errors say what to do, never the
// value itself.
func KeyFromEnv(value string) ([]byte, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, fmt.Errorf("secretbox: set %s to 32 random bytes in base64 or hex (e.g. `openssl rand -base64 32`); it encrypts the stored GitHub App credentials", EnvVar)
	}
	if len(v) == 2*KeySize {
		if k, err := hex.DecodeString(v); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.Strict().DecodeString(v); err == nil {
			if len(k) == KeySize {
				return k, nil
			}
			return nil, fmt.Errorf("secretbox: %s decodes to %d bytes, want %d (generate one with `openssl rand -base64 32`)", EnvVar, len(k), KeySize)
		}
	}
	return nil, fmt.Errorf("secretbox: %s is neither 64 hex digits nor base64 of 32 bytes (generate one with `openssl rand -base64 32`)", EnvVar)
}
