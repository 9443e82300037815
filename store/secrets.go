package store

import (
	"context"
	"fmt"
)

// PutSecret stores a value under key, replacing any previous one. The value
// must already be sealed (secretbox): the store never sees plaintext secrets.
func (q *Q) PutSecret(ctx context.Context, key string, ciphertext []byte) error {
	if key == "" || len(ciphertext) == 0 {
		return fmt.Errorf("put secret %q: key and value are required: %w", key, ErrInvalid)
	}
	_, err := q.x.ExecContext(ctx, q.rebind(`INSERT INTO secrets (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
		key, ciphertext, q.now())
	if err != nil {
		return fmt.Errorf("put secret %q: %w", key, err)
	}
	return nil
}

// GetSecret returns the sealed value stored under key, or ErrNotFound.
func (q *Q) GetSecret(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	if err := q.x.GetContext(ctx, &v, q.rebind(`SELECT value FROM secrets WHERE key = ?`), key); err != nil {
		return nil, notFound(err, fmt.Sprintf("secret %q", key))
	}
	return v, nil
}
