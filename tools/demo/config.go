package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/tools/configgen"
)

// Credentials are the demo's generated logins, printed for the newcomer.
type Credentials struct {
	AdminUser, AdminPassword   string
	ViewerUser, ViewerPassword string
}

// NewCredentials makes fresh random passwords, so a demo left running on a
// shared machine is not open to anyone who read the README.
func NewCredentials() Credentials {
	return Credentials{
		AdminUser: "admin", AdminPassword: randomPassword(),
		ViewerUser: "viewer", ViewerPassword: randomPassword(),
	}
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ConfigOptions place the demo's server.
type ConfigOptions struct {
	Dir       string // temporary folder: database, App key
	Listen    string // server listen address
	PublicURL string // how a browser reaches the server
	Creds     Credentials
}

type client struct{ EL, CL string }

// clients are the template combinations of the sync group.
var clients = []client{
	{"geth", "lighthouse"}, {"geth", "teku"}, {"nethermind", "prysm"},
	{"besu", "nimbus"}, {"reth", "lodestar"}, {"erigon", "grandine"},
}

// demoConfig is an ordinary dispatchoor config: the demo goes through the
// same loader and validation as a real deployment. Secrets come in through
// ${VARS} resolved from the demo's own environment map, never the process's.
func demoConfig(w *World, opts ConfigOptions, keyPath string) configgen.Config {
	scope := "org:" + Org
	sync := configgen.Group{ID: "sync-tests", Name: "Sync Tests", RunnerLabels: []string{"self-hosted", "sync-test"},
		RunnerScope: scope, MaxConcurrent: 5}
	for _, c := range clients {
		sync.Templates = append(sync.Templates, configgen.Template{
			ID: "sync-" + c.EL + "-" + c.CL, Name: "Sync " + c.EL + "/" + c.CL, Owner: Org, Repo: "sync-tests",
			WorkflowID: "sync.yml", Ref: "main",
			Inputs: map[string]string{"network": "hoodi", "el-client": c.EL, "cl-client": c.CL, "dispatchoor_job_id": ""},
			Labels: map[string]string{"el": c.EL, "cl": c.CL, "network": "hoodi"},
		})
	}
	bench := func(model string) configgen.Template {
		return configgen.Template{ID: "bench-" + model, Name: "Bench (" + model + " model)", Owner: Org, Repo: "gpu-bench",
			WorkflowID: "bench.yml", Ref: "main", Inputs: map[string]string{"model": model, "dispatchoor_job_id": ""},
			Labels: map[string]string{"model": model}}
	}
	return configgen.Config{
		Server:   configgen.Server{Listen: opts.Listen, PublicURL: opts.PublicURL},
		Database: configgen.SQLiteDatabase(filepath.Join(opts.Dir, "dispatchoor.db")),
		GitHub: configgen.GitHub{WebURL: w.Sim.BaseURL(), APIURL: w.Sim.APIURL(), App: configgen.App{
			ID: w.Sim.AppID(), PrivateKeyPath: keyPath, WebhookSecret: "${WEBHOOK_SECRET}",
			ClientID: w.Sim.ClientID(), ClientSecret: "${CLIENT_SECRET}",
		}},
		Dispatcher:    configgen.Dispatcher{Enabled: true, Interval: 15 * time.Second, ReconcileInterval: time.Minute, StartTimeout: 10 * time.Minute},
		SlashCommands: &configgen.SlashCommands{Enabled: true, MinPermission: "write", Repos: []string{Org + "/*"}},
		Auth: configgen.Auth{SessionTTL: 24 * time.Hour, Basic: configgen.Basic{Enabled: true, Users: []configgen.User{
			{Username: opts.Creds.AdminUser, Password: "${ADMIN_PASSWORD}", Role: "admin"},
			{Username: opts.Creds.ViewerUser, Password: "${VIEWER_PASSWORD}", Role: "readonly"},
		}}},
		History: &configgen.History{RetentionDays: 7, CleanupInterval: time.Hour},
		Groups: configgen.Groups{GitHub: []configgen.Group{sync, {
			ID: "gpu", Name: "GPU Benchmarks", RunnerLabels: []string{"self-hosted", "gpu"}, RunnerScope: scope,
			Templates: []configgen.Template{bench("small"), bench("large")},
		}}},
	}
}

// Config writes the App key into opts.Dir and returns the loaded config.
func (w *World) Config(ctx context.Context, opts ConfigOptions) (*config.Config, error) {
	keyPath := filepath.Join(opts.Dir, "app.pem")
	if err := os.WriteFile(keyPath, w.Sim.PrivateKeyPEM(), 0o600); err != nil {
		return nil, fmt.Errorf("write demo app key: %w", err)
	}
	data, err := demoConfig(w, opts, keyPath).YAML("dispatchoor demo")
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	env := map[string]string{
		"WEBHOOK_SECRET":  w.Sim.WebhookSecret(),
		"CLIENT_SECRET":   w.Sim.ClientSecret(),
		"ADMIN_PASSWORD":  opts.Creds.AdminPassword,
		"VIEWER_PASSWORD": opts.Creds.ViewerPassword,
	}
	path := filepath.Join(opts.Dir, "config.yml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write demo config: %w", err)
	}
	lo := config.NewLoadOptions()
	lo.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := config.Parse(ctx, path, data, lo)
	if err != nil {
		return nil, fmt.Errorf("demo config does not validate (a bug): %w", err)
	}
	return cfg, nil
}
