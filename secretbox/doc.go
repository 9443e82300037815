// Package secretbox seals small secrets (the GitHub App's private key,
// webhook secret and OAuth client secret stored by setup mode) with
// AES-256-GCM before they are written to the database, and opens them again.
//
// The key comes from the environment (DISPATCHOOR_SECRET_KEY) through
// KeyFromEnv: exactly 32 random bytes, written as base64 or hex. Passphrases
// are refused on purpose: a fast hash of a human-chosen phrase would be the
// weakest link, and a slow KDF would need a stored salt and tuning. Generate
// a key with `openssl rand -base64 32`.
//
// It uses only the standard library and must never import another package
// of this module.
package secretbox
