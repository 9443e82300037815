package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/secretbox"
	"github.com/ethpandaops/dispatchoor/store"
)

// SecretKey is the name the App credentials are stored under.
//
// They are stored as one sealed record rather than one secret per field:
// a single PutSecret is atomic on both databases, so a crash can never leave
// half an App (say a new private key beside an old webhook secret), and the
// additional data (the key name) still binds the sealed value to its name.
const SecretKey = "github_app"

// Store keeps sealed values; *store.Q (and so *store.Store) implements it.
// GetSecret must wrap store.ErrNotFound for a missing key.
type Store interface {
	PutSecret(ctx context.Context, key string, sealed []byte) error
	GetSecret(ctx context.Context, key string) ([]byte, error)
}

var _ Store = (*store.Store)(nil)

// Credentials are what GitHub's manifest conversion returns about the new
// App. String, GoString and MarshalJSON hide the secrets so logging a
// Credentials cannot leak them.
type Credentials struct {
	AppID         int64
	Slug          string
	PrivateKeyPEM string
	WebhookSecret string
	ClientID      string
	ClientSecret  string
}

// String names the App and hides its secrets.
func (c Credentials) String() string {
	return "GitHub App " + strconv.FormatInt(c.AppID, 10) + " (" + c.Slug + ", secrets redacted)"
}

// GoString keeps %#v from printing the secrets.
func (c Credentials) GoString() string { return "setup.Credentials{" + c.String() + "}" }

// MarshalJSON writes only the public parts.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AppID    int64  `json:"app_id"`
		Slug     string `json:"slug"`
		ClientID string `json:"client_id"`
	}{c.AppID, c.Slug, c.ClientID})
}

// ConfigApp returns the credentials as the config's App section, for the
// code that builds GitHub clients and the OAuth login from config.
func (c Credentials) ConfigApp() config.App {
	return config.App{
		ID:            c.AppID,
		PrivateKey:    config.Secret(c.PrivateKeyPEM),
		WebhookSecret: config.Secret(c.WebhookSecret),
		ClientID:      c.ClientID,
		ClientSecret:  config.Secret(c.ClientSecret),
	}
}

func (c Credentials) validate() error {
	switch {
	case c.AppID <= 0:
		return errors.New("app id is missing")
	case c.Slug == "":
		return errors.New("app slug is missing")
	case c.PrivateKeyPEM == "":
		return errors.New("private key (pem) is missing")
	case c.WebhookSecret == "":
		// Without it no webhook can be verified, and every one is refused.
		return errors.New("webhook secret is missing")
	}
	return nil
}

// record is the stored (then sealed) form; it has its own type so that
// Credentials.MarshalJSON can redact without hiding anything from storage.
type record struct {
	Version       int    `json:"v"`
	AppID         int64  `json:"app_id"`
	Slug          string `json:"slug"`
	PrivateKeyPEM string `json:"pem"`
	WebhookSecret string `json:"webhook_secret"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
}

// additionalData binds a sealed value to the name it is stored under: a
// value copied to another key does not open.
func additionalData(key string) []byte { return []byte("dispatchoor/secrets/" + key) }

// Save seals the credentials and stores them under SecretKey.
func Save(ctx context.Context, st Store, box *secretbox.Box, c Credentials) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("save github app credentials: %w", err)
	}
	plain, err := json.Marshal(record{Version: 1, AppID: c.AppID, Slug: c.Slug, PrivateKeyPEM: c.PrivateKeyPEM,
		WebhookSecret: c.WebhookSecret, ClientID: c.ClientID, ClientSecret: c.ClientSecret})
	if err != nil {
		return fmt.Errorf("save github app credentials: encode: %w", err)
	}
	sealed, err := box.Seal(plain, additionalData(SecretKey))
	if err != nil {
		return fmt.Errorf("save github app credentials: %w", err)
	}
	if err := st.PutSecret(ctx, SecretKey, sealed); err != nil {
		return fmt.Errorf("save github app credentials: %w", err)
	}
	return nil
}

// Load reads the credentials setup mode stored. ok is false (and err nil)
// when none are stored. A value that does not open (another
// DISPATCHOOR_SECRET_KEY, or tampering) is an error, never "not configured":
// falling back to setup mode would let anyone replace the App.
func Load(ctx context.Context, st Store, box *secretbox.Box) (Credentials, bool, error) {
	sealed, found, err := stored(ctx, st)
	if err != nil || !found {
		return Credentials{}, false, err
	}
	if box == nil {
		return Credentials{}, false, fmt.Errorf("load github app credentials: they are stored encrypted but %s is not set", secretbox.EnvVar)
	}
	plain, err := box.Open(sealed, additionalData(SecretKey))
	if err != nil {
		return Credentials{}, false, fmt.Errorf("load github app credentials: %s does not open them (was the key changed?): %w", secretbox.EnvVar, err)
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		return Credentials{}, false, fmt.Errorf("load github app credentials: decode: %w", err)
	}
	if r.Version != 1 {
		return Credentials{}, false, fmt.Errorf("load github app credentials: unknown record version %d", r.Version)
	}
	c := Credentials{AppID: r.AppID, Slug: r.Slug, PrivateKeyPEM: r.PrivateKeyPEM, WebhookSecret: r.WebhookSecret,
		ClientID: r.ClientID, ClientSecret: r.ClientSecret}
	if err := c.validate(); err != nil {
		return Credentials{}, false, fmt.Errorf("load github app credentials: %w", err)
	}
	return c, true, nil
}

// stored returns the sealed record, if any, without opening it.
func stored(ctx context.Context, st Store) ([]byte, bool, error) {
	sealed, err := st.GetSecret(ctx, SecretKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load github app credentials: %w", err)
	}
	return sealed, true, nil
}
