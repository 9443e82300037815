package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v89/github"
	"golang.org/x/oauth2"

	"github.com/ethpandaops/dispatchoor/config"
	"github.com/ethpandaops/dispatchoor/store"
)

const (
	oauthCookie     = "dispatchoor_oauth"
	oauthCookiePath = v1 + "/auth/github"
	// maxOrgPages bounds the /user/orgs walk (100 per page).
	maxOrgPages = 50
)

// githubLogin is OAuth login through the GitHub App's own client id and
// secret (a user-to-server token, used once to learn who the user is).
type githubLogin struct {
	enabled bool
	conf    oauth2.Config
	apiURL  string
	users   map[string]string // lower-case login → role
	orgs    map[string]string // lower-case org → role
}

func newGitHubLogin(c *config.Config) *githubLogin {
	g := &githubLogin{
		enabled: c.Auth.GitHub.Enabled && c.GitHub.App.ClientID != "",
		apiURL:  c.GitHub.APIURL,
		users:   lowerKeys(c.Auth.GitHub.UserRoleMapping),
		orgs:    lowerKeys(c.Auth.GitHub.OrgRoleMapping),
	}
	web := strings.TrimRight(c.GitHub.WebURL, "/")
	g.conf = oauth2.Config{
		ClientID:     c.GitHub.App.ClientID,
		ClientSecret: c.GitHub.App.ClientSecret.Value(),
		Endpoint: oauth2.Endpoint{
			AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	if pu := strings.TrimRight(c.Server.PublicURL, "/"); pu != "" {
		g.conf.RedirectURL = pu + oauthCookiePath + "/callback"
	}
	return g
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// roleFor decides a GitHub user's role. An explicit user mapping decides
// alone (it can also lower an org member to readonly); otherwise the highest
// role of the user's mapped orgs wins. "" means refused.
func (g *githubLogin) roleFor(login string, orgs []string) string {
	if r, ok := g.users[strings.ToLower(login)]; ok {
		return r
	}
	role := ""
	for _, o := range orgs {
		switch g.orgs[strings.ToLower(o)] {
		case roleAdmin:
			return roleAdmin
		case roleReadonly:
			role = roleReadonly
		}
	}
	return role
}

// safeRedirect keeps a post-login redirect inside public_url: only a local
// absolute path is accepted, never a scheme, host or protocol-relative
// "//evil.example" (nor "/\evil.example", which browsers treat alike).
func safeRedirect(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(p, "\r\n\\") {
		return "/"
	}
	return u.RequestURI()
}

func (s *Server) githubStart(w http.ResponseWriter, r *http.Request) error {
	return s.loginErrorsToBrowser(w, r, s.githubStartFlow(w, r))
}

func (s *Server) githubStartFlow(w http.ResponseWriter, r *http.Request) error {
	if !s.oauth.enabled || s.publicURL == nil {
		return &apiError{Status: http.StatusNotFound, Code: "not_enabled", Msg: "GitHub login is not enabled"}
	}
	state := newSecret()
	target := safeRedirect(r.URL.Query().Get("redirect"))
	http.SetCookie(w, &http.Cookie{
		Name: oauthCookie, Value: state + "." + base64.RawURLEncoding.EncodeToString([]byte(target)),
		Path: oauthCookiePath, MaxAge: 600, HttpOnly: true, Secure: s.secureCookies(r),
		// Lax: the callback is a top-level GET navigation from GitHub, which
		// Lax cookies accompany.
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, s.oauth.conf.AuthCodeURL(state), http.StatusFound)
	return nil
}

// githubCallback checks the state against the browser's cookie (so a login
// started elsewhere cannot be completed here), learns the user and their
// orgs, maps them to a role and starts a session.
func (s *Server) githubCallback(w http.ResponseWriter, r *http.Request) error {
	return s.loginErrorsToBrowser(w, r, s.githubCallbackFlow(w, r))
}

func (s *Server) githubCallbackFlow(w http.ResponseWriter, r *http.Request) error {
	if !s.oauth.enabled || s.publicURL == nil {
		return &apiError{Status: http.StatusNotFound, Code: "not_enabled", Msg: "GitHub login is not enabled"}
	}
	c, err := r.Cookie(oauthCookie)
	http.SetCookie(w, &http.Cookie{Name: oauthCookie, Value: "", Path: oauthCookiePath, MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	if err != nil {
		return stateMismatch("no login in progress in this browser; start again")
	}
	state, encTarget, _ := strings.Cut(c.Value, ".")
	if q := r.URL.Query().Get("state"); q == "" || !sameSecret(q, state) {
		return stateMismatch("does not match this browser's login; start again")
	}
	if e := r.URL.Query().Get("error"); e != "" {
		return &apiError{Status: http.StatusForbidden, Code: "oauth_denied", Msg: "GitHub refused the login: " + e}
	}
	code := r.URL.Query().Get("code")
	if code == "" {
		return badRequest("code", "is missing")
	}
	login, orgs, tok, err := s.oauth.identify(r, code)
	if err != nil {
		s.log.Warn().Err(err).Msg("github login failed")
		return &apiError{Status: http.StatusBadGateway, Code: "github_error", Msg: "could not verify the login with GitHub"}
	}
	role := s.oauth.roleFor(login, orgs)
	if role == "" {
		s.audit(r, "github:"+login, "login_failed", "", map[string]any{"method": "github", "reason": "no role mapping"})
		// A user who lost their mapping must also lose existing sessions.
		if u, err := s.store.GetUser(r.Context(), login); err == nil && u.Source == store.UserSourceGitHub && !u.Disabled {
			if err := s.store.DisableUser(r.Context(), login); err != nil {
				s.log.Error().Err(err).Str("user", login).Msg("disable unmapped github user")
			}
		}
		return &apiError{Status: http.StatusForbidden, Code: "not_mapped", Msg: "your GitHub account is not mapped to a dispatchoor role"}
	}
	if err := s.store.UpsertGitHubUser(r.Context(), login, role); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.audit(r, "github:"+login, "login_failed", "", map[string]any{"method": "github", "reason": "name held by a basic user"})
			return &apiError{Status: http.StatusForbidden, Code: "name_taken", Msg: "this name belongs to a password user"}
		}
		return err
	}
	// The token is stored before the session exists, so that no GitHub
	// session is ever without a token to re-check it by.
	if err := s.members.remember(r.Context(), login, tok); err != nil {
		return err
	}
	if _, err := s.startSession(w, r, login); err != nil {
		return err
	}
	s.audit(r, login, "login", "", map[string]any{"method": "github", "role": role})
	target := "/"
	if b, err := base64.RawURLEncoding.DecodeString(encTarget); err == nil {
		target = safeRedirect(string(b))
	}
	http.Redirect(w, r, s.publicURL.String()+target, http.StatusFound)
	return nil
}

// identify exchanges the code and reads the login and every org (all
// pages). The user's token is returned too, so that the membership can be
// re-checked later (membership.go).
func (g *githubLogin) identify(r *http.Request, code string) (string, []string, *oauth2.Token, error) {
	ctx := r.Context()
	tok, err := g.conf.Exchange(ctx, code)
	if err != nil {
		return "", nil, nil, fmt.Errorf("exchange oauth code: %w", err)
	}
	use := *tok // oauth2 writes into the token it uses; tok is kept
	login, orgs, err := g.lookup(ctx, oauth2.StaticTokenSource(&use))
	return login, orgs, tok, err
}

// lookup reads the token's user and every org of theirs (all pages).
func (g *githubLogin) lookup(ctx context.Context, ts oauth2.TokenSource) (string, []string, error) {
	gc, err := github.NewClient(github.WithHTTPClient(oauth2.NewClient(ctx, ts)), github.WithURLs(&g.apiURL, nil))
	if err != nil {
		return "", nil, fmt.Errorf("github client for %s: %w", g.apiURL, err)
	}
	u, _, err := gc.Users.Get(ctx, "")
	if err != nil {
		return "", nil, fmt.Errorf("get authenticated user: %w", err)
	}
	login := u.GetLogin()
	if login == "" {
		return "", nil, errors.New("get authenticated user: empty login")
	}
	var orgs []string
	opts := &github.ListOptions{PerPage: 100}
	for range maxOrgPages {
		page, resp, err := gc.Organizations.List(ctx, "", opts)
		if err != nil {
			return "", nil, fmt.Errorf("list orgs of %s: %w", login, err)
		}
		for _, o := range page {
			orgs = append(orgs, o.GetLogin())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return login, orgs, nil
}

func stateMismatch(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "state_mismatch", Field: "state", Msg: "invalid state: " + msg}
}

// loginErrorsToBrowser sends a browser whose GitHub login failed back to the
// UI's login page with the error's code ({public_url}/login?error=<code>),
// instead of leaving it on a page of JSON; API clients still get the JSON
// error. The target is built from public_url alone, never from the request,
// so it cannot be pointed at another host.
func (s *Server) loginErrorsToBrowser(w http.ResponseWriter, r *http.Request, err error) error {
	if err == nil || s.publicURL == nil || !acceptsHTML(r) {
		return err
	}
	ae, known := toAPIError(err)
	if !known {
		s.log.Error().Err(err).Str("path", r.URL.Path).Msg("github login failed")
	}
	http.Redirect(w, r, s.publicURL.String()+"/login?"+url.Values{"error": {ae.Code}}.Encode(), http.StatusFound)
	return nil
}

// acceptsHTML reports whether the client asked for an HTML page (a browser
// navigation sends "Accept: text/html,..."; fetch and curl do not).
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || (mt != "text/html" && mt != "application/xhtml+xml") {
			continue
		}
		if q, err := strconv.ParseFloat(params["q"], 64); params["q"] == "" || (err == nil && q > 0) {
			return true
		}
	}
	return false
}
