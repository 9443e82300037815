package setup_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/secretbox"
	"github.com/ethpandaops/dispatchoor/setup"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func randomKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

func boxFor(t *testing.T, key string) *secretbox.Box {
	t.Helper()
	k, err := secretbox.KeyFromEnv(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := secretbox.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var sampleCreds = setup.Credentials{AppID: 42, Slug: "dispatchoor-test", PrivateKeyPEM: "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
	WebhookSecret: "whsec", ClientID: "Iv1.abc", ClientSecret: "cs"}

func TestResolveDecidesWhereCredentialsComeFrom(t *testing.T) {
	ctx := context.Background()
	key := randomKey(t)
	cases := []struct {
		name      string
		stored    bool   // credentials saved under key before Resolve
		env       string // DISPATCHOOR_SECRET_KEY
		configApp bool
		want      setup.Source
		wantErr   []string // substrings of the error
	}{
		{name: "nothing configured and no key: setup mode cannot store anything",
			wantErr: []string{"DISPATCHOOR_SECRET_KEY", "setup mode", "openssl rand"}},
		{name: "stored credentials but no key: they cannot be opened", stored: true,
			wantErr: []string{"DISPATCHOOR_SECRET_KEY", "stored encrypted"}},
		{name: "config carries the App: no key needed", configApp: true, want: setup.SourceConfig},
		{name: "config wins over stored credentials", stored: true, env: key, configApp: true, want: setup.SourceConfig},
		{name: "malformed key is an error even when not needed", env: "hunter2", configApp: true,
			wantErr: []string{"DISPATCHOOR_SECRET_KEY"}},
		{name: "key and nothing stored: setup mode", env: key, want: setup.SourceNone},
		{name: "key and stored credentials: loaded", stored: true, env: key, want: setup.SourceDatabase},
		{name: "another key never falls back to setup mode", stored: true, env: randomKey(t),
			wantErr: []string{"DISPATCHOOR_SECRET_KEY", "does not open"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				if tc.stored {
					if err := setup.Save(ctx, st, boxFor(t, key), sampleCreds); err != nil {
						t.Fatal(err)
					}
				}
				got, err := setup.Resolve(ctx, setup.ResolveOptions{Store: st, ConfigHasApp: tc.configApp,
					Getenv: func(k string) string {
						if k == secretbox.EnvVar {
							return tc.env
						}
						return ""
					}})
				if len(tc.wantErr) > 0 {
					if err == nil {
						t.Fatalf("Resolve = %+v, want an error", got)
					}
					for _, s := range tc.wantErr {
						if !strings.Contains(err.Error(), s) {
							t.Errorf("error %q does not mention %q", err, s)
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				if got.Source != tc.want || got.SetupMode() != (tc.want == setup.SourceNone) {
					t.Fatalf("source = %q, want %q", got.Source, tc.want)
				}
				if (tc.env != "") != (got.Box != nil) {
					t.Fatalf("box = %v with key %q", got.Box, tc.env)
				}
				if tc.want == setup.SourceDatabase && !reflect.DeepEqual(got.Credentials, sampleCreds) {
					t.Fatalf("credentials = %v", got.Credentials)
				}
			})
		})
	}
}

func TestSealedCredentialsAreBoundToTheirName(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	box := newBox(t)
	if err := setup.Save(ctx, st, box, sampleCreds); err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetSecret(ctx, setup.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	// The same sealed bytes moved under another name must not open.
	if _, err := box.Open(raw, []byte("dispatchoor/secrets/other")); err == nil {
		t.Fatal("sealed credentials opened under another name")
	}
	// Tampering is an error, never "not configured".
	raw[len(raw)-1] ^= 1
	if err := st.PutSecret(ctx, setup.SecretKey, raw); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := setup.Load(ctx, st, box); err == nil || ok {
		t.Fatalf("tampered credentials: ok=%v err=%v, want an error", ok, err)
	}
	if err := setup.Save(ctx, st, box, setup.Credentials{AppID: 1, Slug: "x"}); err == nil {
		t.Fatal("Save accepted credentials without a private key")
	}
}

func TestCredentialsNeverPrintTheirSecrets(t *testing.T) {
	for name, s := range map[string]string{
		"String":   sampleCreds.String(),
		"GoString": sampleCreds.GoString(),
	} {
		if strings.Contains(s, "whsec") || strings.Contains(s, "MIIB") || strings.Contains(s, "cs)") {
			t.Errorf("%s leaks a secret: %s", name, s)
		}
	}
	j, err := sampleCreds.MarshalJSON()
	if err != nil || strings.Contains(string(j), "whsec") || strings.Contains(string(j), "MIIB") || strings.Contains(string(j), `"cs"`) {
		t.Errorf("MarshalJSON leaks a secret: %s %v", j, err)
	}
	if app := sampleCreds.ConfigApp(); app.ID != 42 || app.PrivateKey.Value() != sampleCreds.PrivateKeyPEM || !app.Configured() {
		t.Errorf("ConfigApp = %+v", app)
	}
}
