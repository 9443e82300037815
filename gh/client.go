package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/clock"
)

// Options configure a Client.
type Options struct {
	// APIURL is the REST v3 base: https://api.github.com/ or, for GitHub
	// Enterprise Server, https://HOST/api/v3/.
	APIURL string
	// AppID and PrivateKey (PEM, PKCS#1 or PKCS#8) identify the App.
	AppID      int64
	PrivateKey []byte

	Logger zerolog.Logger
	// Transport carries the requests; nil uses a clone of
	// http.DefaultTransport with a response-header timeout.
	Transport http.RoundTripper
	// Observer, when set, is called once per HTTP response.
	Observer Observer
	Retry    RetryPolicy
	// InstallationTTL is how long an installation lookup is cached past its
	// last confirmation (the lookup, or a request with that installation's
	// token that succeeded for the owner or repository); default 1h. A
	// refused token or a 404 forgets the entries that led to the request,
	// and "not installed" is remembered for at most a minute.
	InstallationTTL time.Duration
	// ClientCacheSize bounds the cached installation clients; default 64.
	ClientCacheSize int
	// UserAgent defaults to "dispatchoor".
	UserAgent string

	// Pace keeps each installation under GitHub's secondary rate limits
	// (DefaultPaceLimits) before GitHub refuses anything, dispatches
	// first; the zero value paces nothing. PaceObserver, when set, hears
	// about every paced request.
	Pace         PaceLimits
	PaceObserver func(PaceEvent)

	// Now and Sleep replace the clock in tests. Sleep must return early with
	// ctx's error when ctx ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to GitHub as the App. It is safe for concurrent use.
type Client struct {
	cc   githubapp.ClientCreator
	app  *github.Client
	log  zerolog.Logger
	now  func() time.Time
	host string

	// noRunDetails is set once GitHub rejected return_run_details (GitHub
	// Enterprise Server before 3.20). A Client serves one host, so this is
	// the per-host memory: the field is never sent to it again.
	noRunDetails atomic.Bool

	installs *installCache
	pace     *pacer // nil when not pacing

	mu   sync.Mutex
	slug string
}

// New builds a Client. It checks the options and the private key, but makes
// no request.
func New(opts Options) (*Client, error) {
	if opts.AppID <= 0 {
		return nil, errors.New("gh: app id must be positive")
	}
	if len(opts.PrivateKey) == 0 {
		return nil, errors.New("gh: app private key is empty")
	}
	base, err := url.Parse(opts.APIURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("gh: api url %q must be an absolute http(s) URL", opts.APIURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = clock.Sleep
	}
	if opts.InstallationTTL <= 0 {
		opts.InstallationTTL = time.Hour
	}
	if opts.ClientCacheSize <= 0 {
		opts.ClientCacheSize = githubapp.DefaultCachingClientCapacity
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "dispatchoor"
	}
	transport := opts.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 30 * time.Second
		transport = t
	}
	if opts.Observer != nil {
		transport = &observer{next: transport, observe: opts.Observer,
			basePath: strings.TrimSuffix(base.Path, "/"), now: opts.Now}
	}
	var pace *pacer
	if opts.Pace != (PaceLimits{}) {
		// Outside the observer, so observed durations are the wire's.
		pace = newPacer(transport, opts.Pace, opts.Now, opts.PaceObserver)
		transport = pace
	}
	log := opts.Logger.With().Str("component", "gh").Logger()
	installs := newInstallCache(opts.InstallationTTL, opts.Now, base.Path)
	retry := func(next http.RoundTripper) http.RoundTripper {
		return &retrier{next: next, policy: opts.Retry.withDefaults(), now: opts.Now, sleep: opts.Sleep, log: log}
	}
	// No client timeout: http.Client.Timeout would also cover the retry
	// waits. Callers bound calls with their context.
	creator := githubapp.NewClientCreator(base.String(), "", opts.AppID, opts.PrivateKey,
		githubapp.WithClientUserAgent(opts.UserAgent),
		githubapp.WithTransport(transport),
		// installs.middleware inside the retrier: it sees every attempt.
		githubapp.WithClientMiddleware(retry, installs.middleware),
	)
	cc, err := githubapp.NewCachingClientCreator(creator, opts.ClientCacheSize)
	if err != nil {
		return nil, fmt.Errorf("gh: build client creator: %w", err)
	}
	app, err := cc.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("gh: build app client (is the private key a PEM RSA key?): %w", err)
	}
	return &Client{
		cc:       cc,
		app:      app,
		log:      log,
		now:      opts.Now,
		host:     base.Host,
		installs: installs,
		pace:     pace,
	}, nil
}

// PaceWaiting returns how many requests wait in the pacer, by priority
// (empty when not pacing).
func (c *Client) PaceWaiting() map[Priority]int {
	if c.pace == nil {
		return map[Priority]int{}
	}
	return c.pace.waiting()
}

// Host is the API host this client talks to.
func (c *Client) Host() string { return c.host }

// installation returns the cached installation client and a context tagged
// with the installation for observation.
func (c *Client) installation(ctx context.Context, inst int64, ep string) (context.Context, *github.Client, error) {
	if inst <= 0 {
		return ctx, nil, invalid(ep, "installation id must be positive, got %d", inst)
	}
	client, err := c.cc.NewInstallationClient(inst)
	if err != nil {
		return ctx, nil, fmt.Errorf("%s: build client for installation %d: %w", ep, inst, err)
	}
	return withPriority(withInstallation(ctx, inst), priorityFor(ep)), client, nil
}

// priorityFor ranks a call for the pacer: dispatches and cancels put
// runners to work or free them, comments and reactions only inform, the
// rest (listings, lookups) is background.
func priorityFor(ep string) Priority {
	switch ep {
	case endpoint(http.MethodPost, epDispatch), endpoint(http.MethodPost, epCancelRun):
		return PriorityDispatch
	case endpoint(http.MethodPost, epCreateComment), endpoint(http.MethodPatch, epEditComment), endpoint(http.MethodPost, epReaction):
		return PriorityFeedback
	}
	return PriorityBackground
}

// pageLimit bounds how many pages any listing follows, so a runaway Link
// chain cannot loop forever.
const pageLimit = 100
