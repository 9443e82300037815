package config

import (
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

// Config is a loaded, expanded and validated configuration. Every key of
// docs/CONFIG.md has a field here; the yaml tags are the keys.
type Config struct {
	Server        Server        `yaml:"server"`
	Database      Database      `yaml:"database"`
	GitHub        GitHub        `yaml:"github"`
	Dispatcher    Dispatcher    `yaml:"dispatcher"`
	SlashCommands SlashCommands `yaml:"slash_commands"`
	Auth          Auth          `yaml:"auth"`
	History       History       `yaml:"history"`
	GroupsConfig  Groups        `yaml:"groups"`

	// File is the path the configuration was loaded from.
	File string `yaml:"-"`
}

// Server is the HTTP side.
type Server struct {
	Listen string `yaml:"listen"`
	// PublicURL is where users and GitHub reach this server: links in
	// comments, OAuth and App-manifest callbacks. No trailing slash.
	PublicURL string `yaml:"public_url"`
	// CORSOrigins are exact origins (scheme://host[:port]). "*" allows any
	// origin but then credentials are never sent.
	CORSOrigins []string `yaml:"cors_origins"`
	// TrustedProxies are CIDRs (or single addresses) whose X-Forwarded-For
	// is believed when finding a client's address.
	TrustedProxies []string   `yaml:"trusted_proxies"`
	RateLimit      RateLimits `yaml:"rate_limit"`
	// PprofListen, when set, serves Go's net/http/pprof profiles on a
	// separate listener (keep it on loopback: profiles reveal internals and
	// cost CPU). Empty, the default, serves none.
	PprofListen string `yaml:"pprof_listen"`
	// Timeouts bound what one connection may hold: slow clients are cut
	// off, and shutdown does not wait on them.
	Timeouts Timeouts `yaml:"timeouts"`
}

// Timeouts of the HTTP server. WebSockets keep their own deadlines (ping
// and pong) once upgraded.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration `yaml:"read_header"`
	// Read bounds reading a whole request, body included (a 25 MB webhook
	// at 1 MB/s takes 25 s).
	Read time.Duration `yaml:"read"`
	// Write bounds writing a response.
	Write time.Duration `yaml:"write"`
	// Idle bounds a kept-alive connection between requests.
	Idle time.Duration `yaml:"idle"`
	// Shutdown is how long in-flight requests get to finish after SIGTERM
	// (after the leader's work stopped) before connections are closed.
	Shutdown time.Duration `yaml:"shutdown"`
	// MaxHeaderBytes caps the size of a request's headers.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// RateLimits are per client address.
type RateLimits struct {
	Auth          RateLimit `yaml:"auth"`          // login, OAuth
	Public        RateLimit `yaml:"public"`        // health, metrics
	Authenticated RateLimit `yaml:"authenticated"` // behind a session or token
	// WebhookFailures: webhook deliveries that fail the signature check;
	// past the limit an address gets 429 unread until the minute ends.
	WebhookFailures RateLimit `yaml:"webhook_failures"`
}

// RateLimit of zero disables the limit.
type RateLimit struct {
	RequestsPerMinute int `yaml:"requests_per_minute"`
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Database says where state lives.
type Database struct {
	Driver   string   `yaml:"driver"`
	SQLite   SQLite   `yaml:"sqlite"`
	Postgres Postgres `yaml:"postgres"`
}

// SQLite is the embedded single-replica database. Path is relative to the
// working directory, as for any other command-line file argument.
type SQLite struct {
	Path string `yaml:"path"`
}

// Postgres is either a DSN or its parts; parts are joined into a URL DSN.
type Postgres struct {
	DSN      Secret `yaml:"dsn"`
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	User     string `yaml:"user"`
	Password Secret `yaml:"password"`
	Database string `yaml:"database"`
	SSLMode  string `yaml:"sslmode"`
}

// GitHub is the GitHub (or GitHub Enterprise Server) the App lives on.
type GitHub struct {
	WebURL string `yaml:"web_url"` // no trailing slash
	APIURL string `yaml:"api_url"` // always ends with "/", as go-github wants
	App    App    `yaml:"app"`
	// Pacing keeps each installation under GitHub's secondary rate limits
	// before GitHub refuses anything.
	Pacing Pacing `yaml:"pacing"`
}

// Pacing limits per installation; zero disables one (GitHub Enterprise
// Server administrators set their own secondary limits, or none). The
// defaults are GitHub's documented ones.
type Pacing struct {
	Concurrent              int `yaml:"concurrent"`
	EndpointPointsPerMinute int `yaml:"endpoint_points_per_minute"`
	ContentPerMinute        int `yaml:"content_per_minute"`
	ContentPerHour          int `yaml:"content_per_hour"`
}

// App holds the GitHub App's credentials. All empty means setup mode (or
// credentials stored by the manifest flow).
type App struct {
	ID int64 `yaml:"id"`
	// PrivateKeyPath is resolved against the config file's folder at load.
	PrivateKeyPath string `yaml:"private_key_path"`
	PrivateKey     Secret `yaml:"private_key"`
	WebhookSecret  Secret `yaml:"webhook_secret"`
	ClientID       string `yaml:"client_id"`
	ClientSecret   Secret `yaml:"client_secret"`
}

// Configured reports whether the config file itself carries App credentials.
func (a App) Configured() bool {
	return a.ID != 0 && (a.PrivateKeyPath != "" || a.PrivateKey != "")
}

// Dispatcher tunes the dispatch loop and the reconciler.
type Dispatcher struct {
	Enabled           bool          `yaml:"enabled"`
	Interval          time.Duration `yaml:"interval"`
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	StartTimeout      time.Duration `yaml:"start_timeout"`
	// DispatchingGrace is how long a dispatch whose outcome is unknown (a
	// 5xx, a crash) may stay in dispatching before, with no run found, it
	// returns to pending.
	DispatchingGrace time.Duration `yaml:"dispatching_grace"`
	// OverdueAfter is how long a triggered or running job may go without
	// an event before its run is re-read from the API.
	OverdueAfter time.Duration `yaml:"overdue_after"`
	// RedeliverInterval is how often the App's failed webhook deliveries are
	// scanned and redelivered. Each scan costs App-token requests (the
	// budget installation lookups share), and the reconciler repairs what a
	// lost delivery misses anyway, so it runs less often than a reconcile —
	// and sooner when a reconcile finds something a webhook should have
	// told us.
	RedeliverInterval time.Duration `yaml:"redeliver_interval"`
}

// Repository permission levels, lowest first, as GitHub's collaborator
// permission endpoint names them in role_name.
var permissionLevels = []string{"read", "triage", "write", "maintain", "admin"}

// SlashCommands configures /dispatch comments.
type SlashCommands struct {
	Enabled       bool   `yaml:"enabled"`
	MinPermission string `yaml:"min_permission"`
	// Repos are owner/name globs (path.Match syntax, case-insensitive).
	Repos []string `yaml:"repos"`
}

// Roles a dashboard user can hold.
const (
	RoleAdmin    = "admin"
	RoleReadonly = "readonly"
)

// Auth configures dashboard and API login.
type Auth struct {
	SessionTTL time.Duration `yaml:"session_ttl"`
	Basic      BasicAuth     `yaml:"basic"`
	GitHub     GitHubAuth    `yaml:"github"`
}

// BasicAuth is username and password login.
type BasicAuth struct {
	Enabled bool   `yaml:"enabled"`
	Users   []User `yaml:"users"`
}

// User is a basic-auth user. Exactly one of Password and PasswordHash is set.
type User struct {
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordHash Secret `yaml:"password_hash"`
	Role         string `yaml:"role"`
}

// GitHubAuth is OAuth login through the App. User mapping wins over org
// mapping; the highest role wins.
type GitHubAuth struct {
	Enabled         bool              `yaml:"enabled"`
	OrgRoleMapping  map[string]string `yaml:"org_role_mapping"`
	UserRoleMapping map[string]string `yaml:"user_role_mapping"`
	// RecheckInterval is how often the org membership of logged-in GitHub
	// users is asked of GitHub again; at most MaxGitHubRecheckInterval.
	RecheckInterval time.Duration `yaml:"recheck_interval"`
}

// MaxGitHubRecheckInterval bounds auth.github.recheck_interval: a person
// removed from a mapped org keeps access at most this long.
const MaxGitHubRecheckInterval = 10 * time.Minute

// History is retention of finished jobs.
type History struct {
	// RetentionDays of zero keeps history forever.
	RetentionDays int `yaml:"retention_days"`
	// AuditRetentionDays bounds the audit log (every API token use is an
	// entry); zero keeps it forever.
	AuditRetentionDays int           `yaml:"audit_retention_days"`
	CleanupInterval    time.Duration `yaml:"cleanup_interval"`
}

// Groups holds runner groups by provider; GitHub is the only one.
type Groups struct {
	GitHub []Group `yaml:"github"`
}

// Group is a pool of runners identified by labels, with its templates.
type Group struct {
	ID           string   `yaml:"id"`
	Name         string   `yaml:"name"`
	RunnerLabels []string `yaml:"runner_labels"`
	// RunnerScope is "org:<org>" or "repo:<owner>/<repo>": where the
	// reconciler lists runners. Derived from the templates when they all
	// share one owner.
	RunnerScope string `yaml:"runner_scope"`
	// MaxConcurrent of zero means no limit beyond idle runners.
	MaxConcurrent int        `yaml:"max_concurrent"`
	Templates     []Template `yaml:"workflow_dispatch_templates"`
	TemplateFiles []string   `yaml:"workflow_dispatch_templates_files"`
	TemplateURLs  []string   `yaml:"workflow_dispatch_templates_urls"`

	// all holds the templates of every source in order, after load.
	all []Template
}

// AllTemplates returns the group's templates from every source: inline,
// then files, then URLs, each tagged with its source.
func (g Group) AllTemplates() []Template { return g.all }

// Template is a workflow_dispatch recipe.
type Template struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Owner      string            `yaml:"owner"`
	Repo       string            `yaml:"repo"`
	WorkflowID string            `yaml:"workflow_id"`
	Ref        string            `yaml:"ref"`
	Inputs     map[string]string `yaml:"inputs"`
	Labels     map[string]string `yaml:"labels"`

	Source core.TemplateSource `yaml:"-"`

	// file and path locate the template for problems.
	file, path string
}

// defaults is the configuration before the file is laid over it. Decoding
// only touches keys that are present, so a block that omits a key (say
// dispatcher without enabled) keeps the default rather than Go's zero value.
func defaults() Config {
	return Config{
		Server: Server{
			Listen: ":9090",
			RateLimit: RateLimits{
				Auth:            RateLimit{RequestsPerMinute: 10},
				Public:          RateLimit{RequestsPerMinute: 120},
				Authenticated:   RateLimit{RequestsPerMinute: 600},
				WebhookFailures: RateLimit{RequestsPerMinute: 30},
			},
			Timeouts: Timeouts{
				ReadHeader: 10 * time.Second, Read: time.Minute, Write: time.Minute, Idle: 2 * time.Minute,
				Shutdown: 5 * time.Second, MaxHeaderBytes: 64 << 10,
			},
		},
		Database: Database{
			Driver: DriverSQLite,
			SQLite: SQLite{Path: "./dispatchoor.db"},
		},
		GitHub: GitHub{
			WebURL: "https://github.com",
			APIURL: "https://api.github.com/",
			Pacing: Pacing{Concurrent: 100, EndpointPointsPerMinute: 900, ContentPerMinute: 80, ContentPerHour: 500},
		},
		Dispatcher: Dispatcher{
			Enabled:           true,
			Interval:          15 * time.Second,
			ReconcileInterval: 5 * time.Minute,
			StartTimeout:      30 * time.Minute,
			DispatchingGrace:  2 * time.Minute,
			OverdueAfter:      2 * time.Minute,
			RedeliverInterval: 30 * time.Minute,
		},
		SlashCommands: SlashCommands{MinPermission: "write"},
		Auth: Auth{
			SessionTTL: 24 * time.Hour,
			Basic:      BasicAuth{Enabled: true},
			GitHub:     GitHubAuth{RecheckInterval: 5 * time.Minute},
		},
		History: History{RetentionDays: 30, AuditRetentionDays: 90, CleanupInterval: time.Hour},
	}
}

// Default returns the configuration an empty file produces, with
// public_url derived from listen. Useful for tests and the demo.
func Default() *Config {
	c := defaults()
	c.Server.PublicURL = publicURLFor(c.Server.Listen)
	return &c
}
