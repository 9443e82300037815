package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/secretbox"
)

// Routes served by Handler.
const (
	pagePath     = "/setup"
	statusPath   = "/api/v1/setup/status"
	manifestPath = "/api/v1/setup/manifest"
	callbackPath = "/api/v1/setup/callback"
)

// Options are the Handler's dependencies.
type Options struct {
	// Store keeps the sealed credentials (required).
	Store Store
	// Box seals them (required unless ConfigHasApp).
	Box *secretbox.Box
	// WebURL is GitHub's web root (https://github.com, or a GHES host) where
	// the manifest form is posted; APIURL is the REST base that converts the
	// code (https://api.github.com/, GHES: https://HOST/api/v3/).
	WebURL string
	APIURL string
	// PublicURL is this server as browsers and GitHub reach it: the
	// manifest's URLs point there, and the callback redirects only there.
	PublicURL string
	// ConfigHasApp: the config file carries App credentials, so setup is
	// never needed and every setup route but status answers 409.
	ConfigHasApp bool
	// Authorize, when set, guards everything but status (e.g. the
	// server's admin check): whoever runs setup chooses which GitHub account
	// owns the App every installation will trust. A non-nil error is a 401.
	Authorize func(*http.Request) error
	// HTTPClient calls GitHub; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	Logger     zerolog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// OnConfigured is called once, synchronously, after the new App's
	// credentials are stored and before the browser is redirected; the
	// server uses it to leave setup mode. It must not block for long.
	OnConfigured func(Credentials)
}

// Handler serves setup mode: GET /setup, GET /api/v1/setup/status,
// GET /api/v1/setup/manifest and GET /api/v1/setup/callback.
type Handler struct {
	opts      Options
	log       zerolog.Logger
	webURL    string
	publicURL string
	// cookiePath is the callback's path as the browser sees it: public_url
	// may carry a path prefix that a reverse proxy strips before us.
	cookiePath string
	secure     bool // public_url is https: cookies get Secure
	gh         *github.Client
	states     *states
	mux        *http.ServeMux

	// configured caches "credentials exist" once seen; before that every
	// request asks the store, so a setup finished on another replica is
	// noticed at once.
	configured atomic.Bool
	// convertMu serialises callbacks: two concurrent ones would create two
	// Apps on GitHub and store whichever finished last.
	convertMu sync.Mutex
}

// New validates the options and builds the Handler.
func New(opts Options) (*Handler, error) {
	if opts.Store == nil {
		return nil, errors.New("setup: Store is required")
	}
	if opts.Box == nil && !opts.ConfigHasApp {
		return nil, fmt.Errorf("setup: a secretbox is required to store the App's credentials (set %s)", secretbox.EnvVar)
	}
	public, err := normalizePublicURL(opts.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	web, err := url.Parse(opts.WebURL)
	if err != nil || (web.Scheme != "http" && web.Scheme != "https") || web.Host == "" {
		return nil, fmt.Errorf("setup: github.web_url %q must be an absolute http(s) URL", opts.WebURL)
	}
	api, err := url.Parse(opts.APIURL)
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" {
		return nil, fmt.Errorf("setup: github.api_url %q must be an absolute http(s) URL", opts.APIURL)
	}
	if !strings.HasSuffix(api.Path, "/") {
		api.Path += "/" // go-github resolves paths against it
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// The conversion is unauthenticated: the one-time code is the
	// credential (docs.github.com, "Create a GitHub App from a manifest").
	base := api.String()
	gh, err := github.NewClient(github.WithHTTPClient(opts.HTTPClient), github.WithURLs(&base, nil))
	if err != nil {
		return nil, fmt.Errorf("setup: github client for %s: %w", base, err)
	}
	h := &Handler{
		opts: opts, log: opts.Logger.With().Str("component", "setup").Logger(),
		webURL: strings.TrimRight(web.String(), "/"), publicURL: public, gh: gh,
		secure: strings.HasPrefix(public, "https://"), mux: http.NewServeMux(),
	}
	if pu, err := url.Parse(public); err == nil {
		h.cookiePath = pu.Path + callbackPath
	}
	if opts.Box != nil {
		h.states = newStates(opts.Box, opts.Now)
	}
	h.mux.HandleFunc("GET "+pagePath, h.guard(h.page))
	h.mux.HandleFunc("GET "+statusPath, h.status)
	h.mux.HandleFunc("GET "+manifestPath, h.guard(h.manifestJSON))
	h.mux.HandleFunc("GET "+callbackPath, h.guard(h.callback))
	return h, nil
}

// ServeHTTP routes the setup paths; anything else is a JSON 404 or 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		switch r.URL.Path {
		case pagePath, statusPath, manifestPath, callbackPath:
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "setup routes answer GET only")
		default:
			writeError(w, http.StatusNotFound, "not_found", "no such setup route")
		}
		return
	}
	h.mux.ServeHTTP(w, r)
}

// guard applies Options.Authorize and refuses once an App is configured.
func (h *Handler) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Authorize != nil {
			if err := h.opts.Authorize(r); err != nil {
				writeError(w, http.StatusUnauthorized, "unauthorized", "setup needs an administrator: "+err.Error())
				return
			}
		}
		source, err := h.source(r.Context())
		if err != nil {
			h.log.Error().Err(err).Msg("read setup state")
			writeError(w, http.StatusInternalServerError, "internal", "cannot read the stored App credentials")
			return
		}
		if source != SourceNone {
			writeError(w, http.StatusConflict, "already_configured",
				"a GitHub App is already configured (from the "+string(source)+"); setup cannot replace it")
			return
		}
		next(w, r)
	}
}

// source says where credentials come from, without opening them.
func (h *Handler) source(ctx context.Context) (Source, error) {
	if h.opts.ConfigHasApp {
		return SourceConfig, nil
	}
	if h.configured.Load() {
		return SourceDatabase, nil
	}
	_, found, err := stored(ctx, h.opts.Store)
	if err != nil {
		return SourceNone, err
	}
	if found {
		h.configured.Store(true)
		return SourceDatabase, nil
	}
	return SourceNone, nil
}

// statusBody answers GET /api/v1/setup/status.
type statusBody struct {
	Configured bool   `json:"configured"`
	Source     string `json:"source"`
	SetupURL   string `json:"setup_url"`
	// CreateURL and CreateOrgURL are where the manifest form is posted:
	// for the user's own account, or an organization ({org}).
	CreateURL    string `json:"create_url"`
	CreateOrgURL string `json:"create_org_url"`
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	source, err := h.source(r.Context())
	if err != nil {
		h.log.Error().Err(err).Msg("read setup state")
		writeError(w, http.StatusInternalServerError, "internal", "cannot read the stored App credentials")
		return
	}
	writeJSON(w, http.StatusOK, statusBody{
		Configured: source != SourceNone, Source: string(source),
		SetupURL:     h.publicURL + pagePath,
		CreateURL:    h.webURL + "/settings/apps/new",
		CreateOrgURL: h.webURL + "/organizations/{org}/settings/apps/new",
	})
}

// orgLogin is GitHub's rule for organization logins.
var orgLogin = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)

// start is one setup attempt: the form's target (with its state) and the
// manifest to post there.
type start struct {
	Action   string
	Org      string
	Manifest ManifestDoc
	JSON     string
}

// begin issues a state, sets its cookie and renders the manifest for the
// request's ?org= and ?name=.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) (start, int, error) {
	q := r.URL.Query()
	org := strings.TrimSpace(q.Get("org"))
	if org != "" && !orgLogin.MatchString(org) {
		return start{}, http.StatusBadRequest, fmt.Errorf("%q is not a GitHub organization login", org)
	}
	name := strings.TrimSpace(q.Get("name"))
	if name == "" {
		name = DefaultAppName(h.publicURL)
	}
	doc, err := manifestDoc(h.publicURL, name)
	if err != nil {
		return start{}, http.StatusBadRequest, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return start{}, http.StatusInternalServerError, err
	}
	state, cookie, err := h.states.issue(h.cookiePath, h.secure)
	if err != nil {
		return start{}, http.StatusInternalServerError, err
	}
	target := h.webURL + "/settings/apps/new"
	if org != "" {
		target = h.webURL + "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	// GitHub reads state from the form's URL and hands it back on the
	// redirect to redirect_url (docs.github.com, manifest flow step 1).
	http.SetCookie(w, cookie)
	return start{Action: target + "?state=" + url.QueryEscape(state), Org: org, Manifest: doc, JSON: string(raw)}, 0, nil
}

// manifestBody answers GET /api/v1/setup/manifest, for a UI that builds the
// form itself: POST a field "manifest" holding JSON(manifest) to action.
type manifestBody struct {
	Action   string      `json:"action"`
	Manifest ManifestDoc `json:"manifest"`
}

func (h *Handler) manifestJSON(w http.ResponseWriter, r *http.Request) {
	st, code, err := h.begin(w, r)
	if err != nil {
		h.fail(w, code, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, manifestBody{Action: st.Action, Manifest: st.Manifest})
}

func (h *Handler) fail(w http.ResponseWriter, code int, err error) {
	if code >= 500 {
		h.log.Error().Err(err).Msg("setup")
		writeError(w, code, "internal", "setup failed; see the server log")
		return
	}
	writeError(w, code, "bad_request", err.Error())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the API's error shape {"error": ..., "code": ...}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}
