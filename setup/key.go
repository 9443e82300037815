package setup

import (
	"context"
	"fmt"

	"github.com/ethpandaops/dispatchoor/secretbox"
)

// Source says where the running App's credentials come from.
type Source string

// Sources of App credentials.
const (
	// SourceConfig: the config file carries them (github.app).
	SourceConfig Source = "config"
	// SourceDatabase: setup mode stored them earlier.
	SourceDatabase Source = "database"
	// SourceNone: there are none yet; the server starts in setup mode.
	SourceNone Source = ""
)

// ResolveOptions are what Resolve needs at start-up.
type ResolveOptions struct {
	Store Store
	// ConfigHasApp is config.GitHub.App.Configured(): the config file
	// carries App credentials, which always win over stored ones.
	ConfigHasApp bool
	// Getenv reads the environment: os.Getenv (tests pass a map lookup).
	// Required, so that no test ever reads the real environment by accident.
	Getenv func(string) string
}

// Resolved is the outcome of Resolve.
type Resolved struct {
	Source Source
	// Credentials are set when Source is SourceDatabase.
	Credentials Credentials
	// Box is nil only when no key is set and none is needed (the config
	// carries the credentials).
	Box *secretbox.Box
}

// SetupMode reports whether the server must serve setup mode.
func (r Resolved) SetupMode() bool { return r.Source == SourceNone }

// Resolve decides at start-up where the App credentials come from and
// builds the secretbox from DISPATCHOOR_SECRET_KEY. The key is required when
// setup mode is needed (it will store credentials) or when credentials are
// stored (to open them); without it the error names the variable. A key that
// is set but malformed is always an error: it was meant to be used.
func Resolve(ctx context.Context, opts ResolveOptions) (Resolved, error) {
	if opts.Store == nil || opts.Getenv == nil {
		return Resolved{}, fmt.Errorf("resolve github app credentials: Store and Getenv are required")
	}
	var box *secretbox.Box
	var keyErr error
	if v := opts.Getenv(secretbox.EnvVar); v != "" {
		key, err := secretbox.KeyFromEnv(v)
		if err != nil {
			return Resolved{}, fmt.Errorf("resolve github app credentials: %w", err)
		}
		if box, err = secretbox.New(key); err != nil {
			return Resolved{}, fmt.Errorf("resolve github app credentials: %w", err)
		}
	} else {
		_, keyErr = secretbox.KeyFromEnv("") // its message says how to make a key
	}
	if opts.ConfigHasApp {
		return Resolved{Source: SourceConfig, Box: box}, nil
	}
	if box == nil {
		_, found, err := stored(ctx, opts.Store)
		if err != nil {
			return Resolved{}, fmt.Errorf("resolve github app credentials: %w", err)
		}
		if found {
			return Resolved{}, fmt.Errorf("github app credentials are stored encrypted in the database but %s is not set; set it to the key used when the App was created: %w", secretbox.EnvVar, keyErr)
		}
		return Resolved{}, fmt.Errorf("no GitHub App is configured (github.app in the config) and setup mode needs %s to encrypt the App it creates: %w", secretbox.EnvVar, keyErr)
	}
	creds, found, err := Load(ctx, opts.Store, box)
	if err != nil {
		return Resolved{}, err
	}
	if !found {
		return Resolved{Source: SourceNone, Box: box}, nil
	}
	return Resolved{Source: SourceDatabase, Credentials: creds, Box: box}, nil
}
