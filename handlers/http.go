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
}

func newEndpoint(b *base, secret string, handlers []githubapp.EventHandler) *endpoint {
	e := &endpoint{b: b, secret: []byte(secret)}
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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		e.reject(w, log, event, http.StatusBadRequest, outcomeBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > maxPayload {
		e.reject(w, log, event, http.StatusRequestEntityTooLarge, outcomeBadRequest, "payload exceeds 25 MB")
		return
	}
	sig := r.Header.Get(github.SHA256SignatureHeader)
	if sig == "" {
		e.reject(w, log, event, http.StatusUnauthorized, outcomeInvalidSignature, "missing X-Hub-Signature-256")
		return
	}
	// github.ValidateSignature compares with hmac.Equal (constant time).
	if err := github.ValidateSignature(sig, body, e.secret); err != nil {
		e.reject(w, log, event, http.StatusUnauthorized, outcomeInvalidSignature, "signature check failed")
		return
	}
	if delivery == "" || len(delivery) > 200 {
		e.reject(w, log, event, http.StatusBadRequest, outcomeBadRequest, "missing or oversized X-GitHub-Delivery")
		return
	}
	r.Header.Del(github.SHA1SignatureHeader)
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := context.WithValue(log.WithContext(r.Context()), stateKey{}, &state{})
	e.dispatcher.ServeHTTP(w, r.WithContext(ctx))
}

func (e *endpoint) reject(w http.ResponseWriter, log zerolog.Logger, event string, status int, outcome, msg string) {
	log.Warn().Int("status", status).Str("outcome", outcome).Msg("webhook rejected: " + msg)
	e.b.metrics.Delivery(eventLabel(event), outcome)
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

// eventLabel bounds the metric label: a verified sender chooses the header,
// but an empty one still needs a value.
func eventLabel(event string) string {
	if event == "" {
		return "unknown"
	}
	if len(event) > 64 {
		return event[:64]
	}
	return event
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
