package server

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/hub"
	"github.com/ethpandaops/dispatchoor/store"
)

// wsRecheckInterval is how often the credentials behind open WebSockets are
// re-checked in the database when Options.WSRecheckInterval is 0. A socket
// is authenticated once, at the handshake; this bounds how long it outlives
// its session or token when the end happened where this process cannot see
// it (expiry, another replica's logout or revocation, a user disabled by a
// config change or a lost GitHub membership) to about one interval.
// docs/API.md ("Live updates") promises 2 s.
const wsRecheckInterval = time.Second

// WebSocketHub is what the server needs of the WebSocket hub (package hub):
// the server authenticates the request and decides which browser origins
// may open a socket; the hub runs the sockets. *hub.Hub implements it.
type WebSocketHub interface {
	// ServeWS upgrades a request already authenticated as c.
	ServeWS(w http.ResponseWriter, r *http.Request, c hub.Client) error
	// Principals lists the principals of the open sockets.
	Principals() []string
	// CloseClients closes every socket of a principal.
	CloseClients(principal, reason string) int
	// SetOrigins sets the origins a browser's handshake may come from.
	SetOrigins(allowed []string)
	// RefreshGauges sets the queue and fleet gauges from the database.
	RefreshGauges(ctx context.Context)
	// Clients is the number of connected clients, for /status.
	Clients() int
	Close() error
}

// JobView is a job as the API shows it, for the hub's job_state messages.
func JobView(j core.Job) any { return toJobJSON(j) }

// allowedOrigins: browsers always send Origin on a WebSocket handshake, and
// a cookie-authenticated socket opened by another site would read the
// user's data, so a present Origin must be ours (non-browser clients send
// none).
func (s *Server) allowedOrigins() []string {
	var out []string
	if s.publicURL != nil {
		out = append(out, s.publicURL.Scheme+"://"+s.publicURL.Host)
	}
	for _, o := range s.cfg.Server.CORSOrigins {
		if o != "*" {
			out = append(out, strings.TrimRight(o, "/"))
		}
	}
	return out
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	// A (re)connect re-checks a GitHub user's membership first, so a
	// dashboard reconnecting after a network blip cannot outlast a removal
	// by a whole recheck_interval.
	if p.Kind == kindSession {
		if ok, err := s.recheckGitHubUser(r.Context(), p.Name); !ok {
			return &apiError{Status: http.StatusForbidden, Code: "not_mapped", Msg: "your GitHub account is no longer mapped to a dispatchoor role"}
		} else if err != nil && !errors.Is(err, errNoMemberToken) {
			s.log.Warn().Err(err).Str("user", p.Name).Msg("GitHub membership re-check failed; socket allowed")
		}
	}
	if err := s.hub.ServeWS(w, r, hub.Client{User: p.Name, Principal: p.key()}); err != nil {
		s.log.Debug().Err(err).Msg("websocket handshake refused")
	}
	return nil
}

// key names the credential behind p, for the hub: one key per session and
// one per API token, so that exactly their sockets can be closed.
func (p *principal) key() string {
	if p.Kind == kindToken {
		return tokenKey(p.tokenID)
	}
	return sessionKey(p.session)
}

func sessionKey(h store.SecretHash) string { return "session:" + hex.EncodeToString(h[:]) }
func tokenKey(id int64) string             { return "token:" + strconv.FormatInt(id, 10) }

// recheckSockets closes the sockets whose session or token is no longer live
// in the database (run every interval by Start).
func (s *Server) recheckSockets(ctx context.Context) {
	for _, key := range s.hub.Principals() {
		live, err := s.principalLive(ctx, key)
		if err != nil {
			// A database hiccup must not disconnect every dashboard; the
			// next tick tries again.
			s.log.Warn().Err(err).Msg("re-check websocket credentials")
			continue
		}
		if !live {
			s.hub.CloseClients(key, "credentials ended")
		}
	}
}

// principalLive reports whether the session or token named by key still
// grants access. GetSession also refuses an expired session and one whose
// user was disabled (removed from the config, or lost their GitHub role).
func (s *Server) principalLive(ctx context.Context, key string) (bool, error) {
	kind, id, _ := strings.Cut(key, ":")
	var err error
	switch kind {
	case "session":
		var h store.SecretHash
		b, derr := hex.DecodeString(id)
		if derr != nil || len(b) != len(h) {
			return false, nil
		}
		copy(h[:], b)
		_, err = s.store.GetSession(ctx, h)
	case "token":
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil {
			return false, nil
		}
		_, err = s.store.GetLiveToken(ctx, n)
	default:
		return false, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
