package hub

import (
	"errors"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"
)

const (
	keyUser      = "user"
	keyPrincipal = "principal"
)

// CloseCredentialsEnded is the WebSocket close code sent to a client whose
// credential (session or API token) ended: 4001 is in the range RFC 6455
// leaves to applications, so the dashboard can tell "log in again" from a
// server restart (1001) and stop reconnecting with a dead cookie.
const CloseCredentialsEnded = 4001

// Client is who an upgraded socket belongs to. Principal is an opaque key
// of the credential that authenticated the handshake (the server uses one
// per session and one per API token), so that exactly the sockets of an
// ended credential can be closed.
type Client struct {
	User      string
	Principal string
}

// ServeWS upgrades a request the server has already authenticated as c;
// the upgrader answers a bad handshake (or a foreign Origin) itself.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request, c Client) error {
	err := h.m.HandleRequestWithKeys(w, r, map[string]any{keyUser: c.User, keyPrincipal: c.Principal})
	if errors.Is(err, melody.ErrClosed) {
		return nil
	}
	return err
}

// Principals lists, once each, the principals of the open sockets, for the
// server's periodic re-check of their credentials.
func (h *Hub) Principals() []string {
	sessions, err := h.m.Sessions()
	if err != nil {
		return nil
	}
	seen := make(map[string]struct{}, len(sessions))
	out := make([]string, 0, len(sessions))
	for _, sess := range sessions {
		p, _ := sess.Get(keyPrincipal)
		key, _ := p.(string)
		if _, dup := seen[key]; dup || key == "" {
			continue
		}
		seen[key] = struct{}{}
		out = append(out, key)
	}
	return out
}

// CloseClients closes every socket of the principal with
// CloseCredentialsEnded and says how many it closed. A client whose buffer
// is full cannot take the close frame; the dropped-client path (onError)
// already closes those.
func (h *Hub) CloseClients(principal, reason string) int {
	sessions, err := h.m.Sessions()
	if err != nil || principal == "" {
		return 0
	}
	msg := websocket.FormatCloseMessage(CloseCredentialsEnded, reason)
	n := 0
	for _, sess := range sessions {
		if p, _ := sess.Get(keyPrincipal); p != principal {
			continue
		}
		// Marked dropped first, so no broadcast reaches it between now and
		// the close frame being written.
		sess.Set(keyDropped, true)
		if sess.CloseWithMsg(msg) == nil {
			n++
		}
	}
	if n > 0 {
		h.log.Info().Int("sockets", n).Str("reason", reason).Msg("closed websockets whose credentials ended")
	}
	return n
}
