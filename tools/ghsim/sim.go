package ghsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a simulator. The zero value is usable: a real-time
// clock, seed 0, a generated App key and no webhook receiver.
type Options struct {
	// Seed seeds every random draw (job durations, conclusions, faults):
	// the same seed and the same sequence of calls give the same draws.
	Seed uint64
	// Speed is how much faster than real time simulated time runs (1 or 0 =
	// real time; 60 = one simulated minute per real second).
	Speed float64

	// WebhookURL is where the App's webhooks are sent; empty records
	// deliveries as failed without sending. WebhookSecret signs them.
	WebhookURL    string
	WebhookSecret string

	// AppID, AppSlug, PrivateKey, ClientID and ClientSecret identify the
	// primary App. A key is generated when nil (see PrivateKeyPEM).
	AppID        int64
	AppSlug      string
	PrivateKey   *rsa.PrivateKey
	ClientID     string
	ClientSecret string

	// GHES319 makes the simulator answer like GitHub Enterprise Server 3.19:
	// workflow dispatch refuses return_run_details with 422.
	GHES319 bool

	// JobDuration bounds the default job duration draw (simulated time);
	// defaults to 20s..60s.
	JobDurationMin, JobDurationMax time.Duration
	// PickupDelay is how long (simulated) an idle runner takes to pick up a
	// queued job; default 1s.
	PickupDelay time.Duration
	// CancelDelay is how long (simulated) an in-progress job takes to stop
	// after a cancel; default 3s.
	CancelDelay time.Duration
	// TokenTTL is the installation token lifetime (simulated); default 1h.
	TokenTTL time.Duration
	// RateLimit is the primary rate limit of an installation, user or App
	// per wall-clock hour, as X-RateLimit-* headers announce it (clients
	// such as go-github then refuse to send more until the reset); default
	// GitHub's 5,000. A world running faster than real time packs Speed
	// hours of requests into one: give it Speed × 5,000.
	RateLimit int
	// SecondaryLimits, enforced per installation in wall-clock time; the
	// zero value enforces none (DefaultSecondaryLimits is GitHub's set).
	SecondaryLimits SecondaryLimits

	Logger zerolog.Logger
}

// Sim is a simulated GitHub. All methods are safe for concurrent use.
type Sim struct {
	opts      Options
	log       zerolog.Logger
	clock     *Clock
	secondary *secondary

	mu      sync.Mutex
	rng     *mrand.Rand
	nextID  int64
	baseURL string
	closed  bool

	apps          map[int64]*app
	primaryApp    int64
	orgs          map[string]*Org
	users         map[string]*User
	repos         map[string]*Repo
	installations map[int64]*Installation
	runners       []*Runner
	runs          map[int64]*Run
	runOrder      []int64
	runNumbers    map[string]int
	jobs          map[int64]*Job
	jobOrder      []int64
	issues        map[string]*issue
	comments      map[int64]*Comment
	reactions     []*Reaction
	tokens        map[string]*token
	manifestCodes map[string]*manifestCode
	oauthCodes    map[string]string
	oauthUser     string
	rateUsed      map[string]int
	rateWindow    time.Time // the hour rateUsed counts

	faults     Faults
	deliveries []*Delivery
	requests   []Request
	hooks      *hookQueue
	timers     map[*time.Timer]struct{}
}

// New builds a simulator and starts its webhook sender; Close stops it.
func New(opts Options) (*Sim, error) {
	if opts.Speed <= 0 {
		opts.Speed = 1
	}
	if opts.AppID == 0 {
		opts.AppID = 1001
	}
	if opts.AppSlug == "" {
		opts.AppSlug = "dispatchoor-sim"
	}
	if opts.ClientID == "" {
		opts.ClientID = "Iv1.sim" + strconv.FormatInt(opts.AppID, 10)
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "sim-client-secret"
	}
	if opts.JobDurationMin <= 0 {
		opts.JobDurationMin = 20 * time.Second
	}
	if opts.JobDurationMax < opts.JobDurationMin {
		opts.JobDurationMax = max(opts.JobDurationMin, 60*time.Second)
	}
	if opts.PickupDelay <= 0 {
		opts.PickupDelay = time.Second
	}
	if opts.CancelDelay <= 0 {
		opts.CancelDelay = 3 * time.Second
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.PrivateKey == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate app private key: %w", err)
		}
		opts.PrivateKey = key
	}
	s := &Sim{
		opts:          opts,
		log:           opts.Logger.With().Str("component", "ghsim").Logger(),
		clock:         newClock(opts.Speed),
		secondary:     newSecondary(opts.SecondaryLimits, time.Now),
		rng:           mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		nextID:        1000,
		baseURL:       "http://ghsim.invalid",
		apps:          map[int64]*app{},
		orgs:          map[string]*Org{},
		users:         map[string]*User{},
		repos:         map[string]*Repo{},
		installations: map[int64]*Installation{},
		runs:          map[int64]*Run{},
		runNumbers:    map[string]int{},
		jobs:          map[int64]*Job{},
		issues:        map[string]*issue{},
		comments:      map[int64]*Comment{},
		tokens:        map[string]*token{},
		manifestCodes: map[string]*manifestCode{},
		oauthCodes:    map[string]string{},
		rateUsed:      map[string]int{},
		timers:        map[*time.Timer]struct{}{},
	}
	s.primaryApp = opts.AppID
	s.apps[opts.AppID] = &app{
		ID: opts.AppID, Slug: opts.AppSlug, Name: opts.AppSlug, Key: &opts.PrivateKey.PublicKey,
		ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
		WebhookURL: opts.WebhookURL, WebhookSecret: opts.WebhookSecret,
		CreatedAt: s.clock.Now(), Owner: "ghsim",
	}
	s.hooks = newHookQueue(s)
	return s, nil
}

// Close stops the webhook sender and every pending simulated timer.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	s.hooks.close()
}

// Clock is the simulator's clock.
func (s *Sim) Clock() *Clock { return s.clock }

// Now is the current simulated time.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// AppID is the primary App's id.
func (s *Sim) AppID() int64 { return s.primaryApp }

// ClientID and ClientSecret are the primary App's OAuth credentials.
func (s *Sim) ClientID() string     { return s.opts.ClientID }
func (s *Sim) ClientSecret() string { return s.opts.ClientSecret }

// WebhookSecret is the primary App's webhook secret.
func (s *Sim) WebhookSecret() string { return s.opts.WebhookSecret }

// PrivateKeyPEM is the primary App's private key, PEM-encoded (PKCS#1, as
// GitHub hands it out), for configuring the project under test.
func (s *Sim) PrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.opts.PrivateKey)})
}

// SetWebhookURL points the primary App's webhooks somewhere else (the
// project's server usually starts after the simulator).
func (s *Sim) SetWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[s.primaryApp].WebhookURL = url
}

// BaseURL is the server's root (web URL); the REST base is BaseURL()+"/api/v3/".
func (s *Sim) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// APIURL is the REST base, with its trailing slash, as go-github wants it.
func (s *Sim) APIURL() string { return s.BaseURL() + "/api/v3/" }

// SetBaseURL tells the simulator the address it is served at, so the URLs in
// its payloads point back at it. ghsimtest and ListenAndServe set it.
func (s *Sim) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimSuffix(u, "/")
}

// ListenAndServe serves the simulator on addr until ctx ends. When
// SetBaseURL was not called, the base URL is http://<listener address>.
func (s *Sim) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ghsim: listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.baseURL == "http://ghsim.invalid" {
		s.baseURL = "http://" + reachable(ln.Addr())
	}
	s.mu.Unlock()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("ghsim listening")
	select {
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			return fmt.Errorf("ghsim: shut down: %w", err)
		}
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("ghsim: serve: %w", err)
	}
}

// reachable turns a wildcard listen address (":8081" listens on [::]) into
// one a browser or client can use.
func reachable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// newID hands out ids; callers hold s.mu.
func (s *Sim) newID() int64 {
	s.nextID++
	return s.nextID
}

// after runs f with s.mu held after d of simulated time, unless the
// simulator was closed meanwhile. Callers hold s.mu.
func (s *Sim) after(d time.Duration, f func()) {
	if s.closed {
		return
	}
	var t *time.Timer
	t = s.clock.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		delete(s.timers, t)
		f()
	})
	s.timers[t] = struct{}{}
}

// Clock runs simulated time at a fixed factor of real time, starting from
// the real time at which it was made (so timestamps look current).
type Clock struct {
	realStart time.Time
	speed     float64
}

func newClock(speed float64) *Clock { return &Clock{realStart: time.Now(), speed: speed} }

// Now is the current simulated time.
func (c *Clock) Now() time.Time {
	return c.realStart.Add(time.Duration(float64(time.Since(c.realStart)) * c.speed)).UTC()
}

// Real converts a simulated duration into the real duration it takes.
func (c *Clock) Real(d time.Duration) time.Duration { return time.Duration(float64(d) / c.speed) }

// RealAt is the real wall-clock moment at which simulated time reaches t.
func (c *Clock) RealAt(t time.Time) time.Time {
	return c.realStart.Add(time.Duration(float64(t.Sub(c.realStart)) / c.speed)).UTC()
}

// Sleep waits d of simulated time or until ctx ends.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(c.Real(d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// AfterFunc calls f after d of simulated time.
func (c *Clock) AfterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(c.Real(d), f)
}
