// Package configgen writes dispatchoor configuration files from a typed
// value, for the tools that start the real binary or the product in process
// (tools/bench, tools/chaos, tools/demo). One builder instead of three
// hand-kept YAML templates keeps the tools' configs in step with the
// product's keys: a renamed key is a compile error here, and the tests load
// every shape the tools emit through the product's own loader.
//
// It imports only the standard library and yaml.v3, never the product's
// packages, so tools/bench (which must not import them) can use it.
package configgen

import (
	"bytes"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the subset of dispatchoor's configuration the tools set. Field
// names follow the YAML keys (docs/CONFIG.md); zero optional values are left
// out so the product's defaults apply.
type Config struct {
	Server        Server         `yaml:"server"`
	Database      Database       `yaml:"database"`
	GitHub        GitHub         `yaml:"github"`
	Dispatcher    Dispatcher     `yaml:"dispatcher"`
	SlashCommands *SlashCommands `yaml:"slash_commands,omitempty"`
	Auth          Auth           `yaml:"auth"`
	History       *History       `yaml:"history,omitempty"`
	Groups        Groups         `yaml:"groups"`
}

// Server is the server section.
type Server struct {
	Listen      string      `yaml:"listen"`
	PublicURL   string      `yaml:"public_url"`
	PprofListen string      `yaml:"pprof_listen,omitempty"`
	RateLimit   *RateLimits `yaml:"rate_limit,omitempty"`
}

// RateLimits are server.rate_limit; a zero RequestsPerMinute disables one.
type RateLimits struct {
	Auth          RateLimit `yaml:"auth"`
	Public        RateLimit `yaml:"public"`
	Authenticated RateLimit `yaml:"authenticated"`
}

// RateLimit is one rate limit.
type RateLimit struct {
	RequestsPerMinute int `yaml:"requests_per_minute"`
}

// Database is the database section; use SQLiteDatabase or PostgresDatabase.
type Database struct {
	Driver   string    `yaml:"driver"`
	SQLite   *SQLite   `yaml:"sqlite,omitempty"`
	Postgres *Postgres `yaml:"postgres,omitempty"`
}

// SQLite is database.sqlite.
type SQLite struct {
	Path string `yaml:"path"`
}

// Postgres is database.postgres.
type Postgres struct {
	DSN string `yaml:"dsn"`
}

// SQLiteDatabase is a SQLite database at path.
func SQLiteDatabase(path string) Database {
	return Database{Driver: "sqlite", SQLite: &SQLite{Path: path}}
}

// PostgresDatabase is a PostgreSQL database at dsn.
func PostgresDatabase(dsn string) Database {
	return Database{Driver: "postgres", Postgres: &Postgres{DSN: dsn}}
}

// GitHub is the github section.
type GitHub struct {
	WebURL string  `yaml:"web_url"`
	APIURL string  `yaml:"api_url"`
	Pacing *Pacing `yaml:"pacing,omitempty"`
	App    App     `yaml:"app"`
}

// Pacing is github.pacing; every field is written, so a zero turns that
// limit off (NoPacing turns them all off).
type Pacing struct {
	Concurrent              int `yaml:"concurrent"`
	EndpointPointsPerMinute int `yaml:"endpoint_points_per_minute"`
	ContentPerMinute        int `yaml:"content_per_minute"`
	ContentPerHour          int `yaml:"content_per_hour"`
}

// NoPacing switches the GitHub request pacer off: for worlds whose
// simulated time runs faster than real time, where limits counted in
// wall-clock minutes would only slow the run.
func NoPacing() *Pacing { return &Pacing{} }

// App is github.app. Secrets may be ${VARS} the loader resolves.
type App struct {
	ID             int64  `yaml:"id"`
	PrivateKeyPath string `yaml:"private_key_path"`
	WebhookSecret  string `yaml:"webhook_secret"`
	ClientID       string `yaml:"client_id"`
	ClientSecret   string `yaml:"client_secret"`
}

// Dispatcher is the dispatcher section; zero durations keep the defaults.
type Dispatcher struct {
	Enabled           bool          `yaml:"enabled"`
	Interval          time.Duration `yaml:"interval,omitempty"`
	ReconcileInterval time.Duration `yaml:"reconcile_interval,omitempty"`
	StartTimeout      time.Duration `yaml:"start_timeout,omitempty"`
	RedeliverInterval time.Duration `yaml:"redeliver_interval,omitempty"`
	DispatchingGrace  time.Duration `yaml:"dispatching_grace,omitempty"`
}

// SlashCommands is the slash_commands section.
type SlashCommands struct {
	Enabled       bool     `yaml:"enabled"`
	MinPermission string   `yaml:"min_permission,omitempty"`
	Repos         []string `yaml:"repos,omitempty"`
}

// Auth is the auth section.
type Auth struct {
	SessionTTL time.Duration `yaml:"session_ttl,omitempty"`
	Basic      Basic         `yaml:"basic"`
}

// Basic is auth.basic.
type Basic struct {
	Enabled bool   `yaml:"enabled"`
	Users   []User `yaml:"users,omitempty"`
}

// User is one basic-auth user; Password may be a ${VAR}.
type User struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Role     string `yaml:"role"`
}

// History is the history section.
type History struct {
	RetentionDays   int           `yaml:"retention_days"`
	CleanupInterval time.Duration `yaml:"cleanup_interval,omitempty"`
}

// Groups is the groups section.
type Groups struct {
	GitHub []Group `yaml:"github"`
}

// Group is one runner group and its templates.
type Group struct {
	ID            string     `yaml:"id"`
	Name          string     `yaml:"name"`
	RunnerLabels  []string   `yaml:"runner_labels,flow"`
	RunnerScope   string     `yaml:"runner_scope"`
	MaxConcurrent int        `yaml:"max_concurrent,omitempty"`
	Templates     []Template `yaml:"workflow_dispatch_templates"`
}

// Template is one workflow_dispatch template.
type Template struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Owner      string            `yaml:"owner"`
	Repo       string            `yaml:"repo"`
	WorkflowID string            `yaml:"workflow_id"`
	Ref        string            `yaml:"ref"`
	Inputs     map[string]string `yaml:"inputs,omitempty,flow"`
	Labels     map[string]string `yaml:"labels,omitempty,flow"`
}

// YAML renders c as a configuration file whose first line is a comment
// saying which tool generated it.
func (c Config) YAML(generatedBy string) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# generated by %s\n", generatedBy)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return buf.Bytes(), nil
}
