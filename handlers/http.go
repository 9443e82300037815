package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
)

// maxPayload is GitHub's cap on a webhook payload (25 MB); GitHub does not
// send larger ones, so a larger body is not GitHub.
const maxPayload = 25 << 20

const (
	outcomeApplied          = "applied"
	outcomeDuplicate        = "duplicate"
	outcomeUnhandled        = "unhandled"
	outcomeInvalidSignature = "invalid_signature"
	outcomeBadRequest       = "bad_request"
	outcomeFailed           = "failed"
)

// endpoint checks the signature itself before go-githubapp's dispatcher sees
// the request: the dispatcher answers a bad or missing signature with 400
// (its ValidationError), and go-github would fall back to the SHA-1
// X-Hub-Signature header. We want 401 and SHA-256 only. The dispatcher still
// validates again (cheap) and does the routing.
type endpoint struct {
	b          *base
	secret     []byte
	dispatcher http.Handler
	inflight   *inflight
}

func newEndpoint(b *base, secret string, handlers []githubapp.EventHandler) *endpoint {
	e := &endpoint{b: b, secret: []byte(secret), inflight: newInflight(smallLaneBytes, largeLaneBytes)}
	e.dispatcher = githubapp.NewEventDispatcher(handlers, secret,
		githubapp.WithErrorCallback(e.onError),
		githubapp.WithResponseCallback(e.onResponse))
	return e
}

// state carries a delivery's outcome from the handler to the response.
type state struct{ outcome string }

type stateKey struct{}

func setOutcome(ctx context.Context, outcome string) {
	if s, ok := ctx.Value(stateKey{}).(*state); ok {
		s.outcome = outcome
	}
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	log := e.b.log.With().Str("event", event).Str("delivery", delivery).Logger()
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "webhooks are POSTed")
		return
	}
	// Nothing the sender says is believed before the signature checks:
	// rejections until then count under one label, whatever the headers.
	if r.ContentLength > maxPayload {
		e.reject(w, log, eventUnverified, http.StatusRequestEntityTooLarge, outcomeBadRequest, "payload exceeds 25 MB")
		return
	}
	sig := r.Header.Get(github.SHA256SignatureHeader)
	if sig == "" {
		e.reject(w, log, eventUnverified, http.StatusUnauthorized, outcomeInvalidSignature, "missing X-Hub-Signature-256")
		return
	}
	body, release, status, err := e.inflight.read(r.Context(), r.Body, r.ContentLength, e.secret, sig)
	defer release()
	if err != nil {
		outcome := outcomeBadRequest
		if status == http.StatusUnauthorized {
			outcome = outcomeInvalidSignature
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		e.reject(w, log, eventUnverified, status, outcome, err.Error())
		return
	}
	if delivery == "" || len(delivery) > 200 {
		e.reject(w, log, eventLabel(event), http.StatusBadRequest, outcomeBadRequest, "missing or oversized X-GitHub-Delivery")
		return
	}
	r.Header.Del(github.SHA1SignatureHeader)
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := context.WithValue(log.WithContext(r.Context()), stateKey{}, &state{})
	e.dispatcher.ServeHTTP(w, r.WithContext(ctx))
}

// reject answers a refused delivery; label is the metric's event label
// (eventUnverified before the signature checked).
func (e *endpoint) reject(w http.ResponseWriter, log zerolog.Logger, label string, status int, outcome, msg string) {
	log.Warn().Int("status", status).Str("outcome", outcome).Msg("webhook rejected: " + msg)
	e.b.metrics.Delivery(label, outcome)
	writeError(w, status, outcome, msg)
}

// onError answers what a handler or the dispatcher refused. A payload that can
// never apply is the sender's fault (400); anything else failed on our side
// and rolled back (5xx), so GitHub lists the delivery as failed and the
// redelivery sweeper retries it.
func (e *endpoint) onError(w http.ResponseWriter, r *http.Request, err error) {
	log := zerolog.Ctx(r.Context())
	event := eventLabel(r.Header.Get("X-GitHub-Event"))
	var ve githubapp.ValidationError
	switch {
	case errors.As(err, &ve):
		log.Warn().Err(ve.Cause).Msg("invalid webhook headers or payload")
		e.b.metrics.Delivery(event, outcomeBadRequest)
		writeError(w, http.StatusBadRequest, outcomeBadRequest, ve.Error())
	case errors.Is(err, errBadPayload):
		log.Warn().Err(err).Msg("webhook payload cannot be applied")
		e.b.metrics.Delivery(event, outcomeBadRequest)
		writeError(w, http.StatusBadRequest, outcomeBadRequest, err.Error())
	default:
		log.Error().Err(err).Msg("webhook failed to apply; rolled back")
		e.b.metrics.Delivery(event, outcomeFailed)
		writeError(w, http.StatusInternalServerError, outcomeFailed, "delivery failed to apply; it was rolled back and can be redelivered")
	}
}

// onResponse acknowledges a delivery. Events without a handler are counted
// and answered 202 so GitHub does not list them as failed.
func (e *endpoint) onResponse(w http.ResponseWriter, r *http.Request, event string, handled bool) {
	outcome := outcomeUnhandled
	status := http.StatusAccepted
	if handled {
		status = http.StatusOK
		outcome = outcomeApplied
		if s, ok := r.Context().Value(stateKey{}).(*state); ok && s.outcome != "" {
			outcome = s.outcome
		}
	} else {
		zerolog.Ctx(r.Context()).Debug().Msg("event not handled; acknowledged")
	}
	e.b.metrics.Delivery(eventLabel(event), outcome)
	writeJSON(w, status, map[string]string{
		"delivery": r.Header.Get("X-GitHub-Delivery"), "event": event, "outcome": outcome,
	})
}

// eventUnverified labels every delivery refused before its signature was
// checked: an unsigned sender must not be able to choose a label value.
const eventUnverified = "unverified"

// knownEvents are the event names counted under their own label; a verified
// delivery of any other event counts as "other", so the label's values stay
// a fixed set whatever a sender (or a future GitHub) puts in the header.
var knownEvents = map[string]bool{
	"workflow_job": true, "workflow_run": true, "issue_comment": true, "installation": true,
	"installation_repositories": true, "installation_target": true, "ping": true, "check_run": true,
	"check_suite": true, "pull_request": true, "push": true, "release": true, "github_app_authorization": true,
	"meta": true,
}

// eventLabel maps an event name to its metric label.
func eventLabel(event string) string {
	if knownEvents[event] {
		return event
	}
	return "other"
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
