package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
)

// WebSocketHub is what the server needs of the WebSocket hub (package hub):
// the server authenticates the request and decides which browser origins
// may open a socket; the hub runs the sockets. *hub.Hub implements it.
type WebSocketHub interface {
	// ServeWS upgrades a request already authenticated as user.
	ServeWS(w http.ResponseWriter, r *http.Request, user string) error
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
	if err := s.hub.ServeWS(w, r, p.Name); err != nil {
		s.log.Debug().Err(err).Msg("websocket handshake refused")
	}
	return nil
}
