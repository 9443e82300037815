package server

import "net/http"

// providersResponse says which login methods the login page should offer.
type providersResponse struct {
	Basic  bool `json:"basic"`
	GitHub bool `json:"github"`
}

// authProviders lets the login page decide whether to show the password form
// and the "Sign in with GitHub" button without probing GET /auth/github,
// which would spend an auth-rate-limited request and set the OAuth state
// cookie of a login nobody started. GitHub counts as enabled only when a
// login could really start: enabled in the config, the App's client id
// known and public_url set (the callback URL is built from it).
func (s *Server) authProviders(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, providersResponse{
		Basic:  s.users.enabled,
		GitHub: s.oauth.enabled && s.publicURL != nil,
	})
	return nil
}
