package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// apiError is what every failing route answers: {"error","code"} plus the
// offending field for bad input.
type apiError struct {
	Status int    `json:"-"`
	Code   string `json:"code"`
	Msg    string `json:"error"`
	Field  string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Msg }

func badRequest(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = "invalid " + field + ": " + msg
	}
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: field, Msg: msg}
}

func errUnavailable(what string) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Msg: what + " is not available on this server"}
}

var (
	errUnauthenticated = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Msg: "log in or send an API token"}
	errForbidden       = &apiError{Status: http.StatusForbidden, Code: "forbidden", Msg: "this needs the admin role"}
	errCSRF            = &apiError{Status: http.StatusForbidden, Code: "csrf", Msg: "unsafe requests with a session cookie need the header " + csrfHeader + ": " + csrfValue}
)

// toAPIError maps domain errors to statuses. Anything unknown is a 500 whose
// message is not shown to the client (it may hold SQL or GitHub detail).
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var ve *queue.ValidationError
	switch {
	case errors.As(err, &ve):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: ve.Field, Msg: ve.Error()}, true
	case errors.Is(err, store.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Msg: err.Error()}, true
	case errors.Is(err, core.ErrTransition), errors.Is(err, store.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Msg: err.Error()}, true
	case errors.Is(err, store.ErrDuplicate):
		return &apiError{Status: http.StatusConflict, Code: "duplicate", Msg: err.Error()}, true
	case errors.Is(err, store.ErrInvalid):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid", Msg: err.Error()}, true
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "internal", Msg: "internal error"}, false
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

const maxBody = 1 << 20

// decodeJSON reads a JSON object into v, refusing unknown fields, trailing
// data and other content types, and names the field at fault.
// errTooLarge answers a body over maxBody: 413 with the limit, not a
// puzzling "unexpected EOF" from a truncated decode.
var errTooLarge = &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
	Msg: fmt.Sprintf("the request body is larger than the %d-byte (1 MiB) limit", maxBody)}

func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Msg: "send application/json"}
		}
	}
	if r.ContentLength > maxBody {
		return errTooLarge
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return jsonError(err)
	}
	if dec.More() {
		return badRequest("", "trailing data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; send a JSON object")
	case errors.As(err, &te):
		return badRequest(te.Field, "want %s, got %s", te.Type.String(), te.Value)
	case errors.As(err, &se):
		return badRequest("", "malformed JSON at byte %d", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return badRequest(f, "unknown field")
	}
	return badRequest("", "malformed JSON: %v", err)
}

func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest(name, "%q is not a positive integer id", v)
	}
	return id, nil
}

func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, badRequest("limit", "%q: want an integer from 1 to 1000", v)
	}
	return n, nil
}

// page is every list's shape.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func list[T any](items []T) page[T] {
	if items == nil {
		items = []T{}
	}
	return page[T]{Items: items}
}
