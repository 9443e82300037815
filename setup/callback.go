package setup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/google/go-github/v89/github"
)

// manifestCode is what a manifest code may look like. GitHub's are hex; the
// rule only has to keep the code a single path segment (no "/", no "..")
// when it is put into app-manifests/{code}/conversions.
var manifestCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// callback serves GET /api/v1/setup/callback?code=...&state=...: GitHub
// sends the browser here after the App is created.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code, state := q.Get("code"), q.Get("state")
	if code == "" || state == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "code and state are required (start from /setup)")
		return
	}
	cookie, _ := r.Cookie(stateCookie)
	// The state is spent here whatever happens next.
	http.SetCookie(w, clearCookie(h.cookiePath, h.secure))
	if err := h.states.consume(state, cookie); err != nil {
		h.log.Warn().Err(err).Msg("setup callback refused")
		writeError(w, http.StatusBadRequest, stateErrorCode(err), err.Error())
		return
	}
	if !manifestCode.MatchString(code) {
		writeError(w, http.StatusBadRequest, "bad_request", "code is not a GitHub manifest code")
		return
	}

	h.convertMu.Lock()
	creds, status, err := h.convertAndStore(r.Context(), code)
	h.convertMu.Unlock()
	if err != nil {
		switch status {
		case http.StatusConflict:
			writeError(w, status, "already_configured", err.Error())
		case http.StatusBadGateway:
			h.log.Error().Err(err).Msg("manifest conversion failed")
			writeError(w, status, "conversion_failed", err.Error())
		default:
			h.log.Error().Err(err).Msg("setup failed")
			writeError(w, status, "internal", "setup failed; see the server log")
		}
		return
	}
	if h.opts.OnConfigured != nil {
		h.opts.OnConfigured(creds)
	}
	// Only ever to our own public URL: nothing from the request chooses
	// where the browser goes next.
	http.Redirect(w, r, h.publicURL+"/", http.StatusSeeOther)
}

// convertAndStore runs under convertMu.
func (h *Handler) convertAndStore(ctx context.Context, code string) (Credentials, int, error) {
	// Another callback (or replica) may have finished while this one
	// waited: never create and store a second App.
	if src, err := h.source(ctx); err != nil {
		return Credentials{}, http.StatusInternalServerError, err
	} else if src != SourceNone {
		return Credentials{}, http.StatusConflict, errors.New("a GitHub App is already configured; setup cannot replace it")
	}
	cfg, _, err := h.gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return Credentials{}, http.StatusBadGateway, fmt.Errorf("convert manifest code with GitHub: %w", conversionError(err))
	}
	creds := Credentials{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), PrivateKeyPEM: cfg.GetPEM(),
		WebhookSecret: cfg.GetWebhookSecret(), ClientID: cfg.GetClientID(), ClientSecret: cfg.GetClientSecret(),
	}
	log := h.log.With().Int64("app_id", creds.AppID).Str("app_slug", creds.Slug).Str("app_url", cfg.GetHTMLURL()).Logger()
	if err := creds.validate(); err != nil {
		log.Error().Err(err).Msg("GitHub created the App but its conversion is incomplete; delete the App on GitHub and run setup again")
		return Credentials{}, http.StatusBadGateway, fmt.Errorf("GitHub's manifest conversion: %w", err)
	}
	if err := Save(ctx, h.opts.Store, h.opts.Box, creds); err != nil {
		// The App exists on GitHub but its private key and secrets are lost:
		// say so, since GitHub will not hand them out again.
		log.Error().Err(err).Msg("GitHub App created but its credentials could not be stored; delete the App on GitHub and run setup again")
		return Credentials{}, http.StatusInternalServerError, err
	}
	h.configured.Store(true)
	log.Info().Str("install_url", cfg.GetHTMLURL()+"/installations/new").Msg("GitHub App created and stored; install it on the organizations to serve")
	return creds, 0, nil
}

// conversionError keeps GitHub's message and status but drops the rest of
// go-github's error, which repeats the request URL and so the code.
func conversionError(err error) error {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		return fmt.Errorf("GitHub answered %d: %s", ge.Response.StatusCode, ge.Message)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("POST app-manifests/{code}/conversions: %w", ue.Err)
	}
	return err
}

func stateErrorCode(err error) string {
	switch {
	case errors.Is(err, errStateExpired):
		return "state_expired"
	case errors.Is(err, errStateMismatch):
		return "state_mismatch"
	case errors.Is(err, errStateUsed):
		return "state_used"
	default:
		return "invalid_state"
	}
}
