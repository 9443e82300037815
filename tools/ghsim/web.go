package ghsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// manifest is the App manifest a setup flow posts to /settings/apps/new.
type manifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL  string   `json:"redirect_url"`
	CallbackURLs []string `json:"callback_urls"`
	Description  string   `json:"description"`
	Public       bool     `json:"public"`
}

type manifestCode struct {
	Manifest manifest
	Owner    string
	Used     bool
}

// SetOAuthUser says which user is "logged in to GitHub" in the browser that
// goes through /login/oauth/authorize.
func (s *Sim) SetOAuthUser(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthUser = login
}

func (s *Sim) webRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/settings/apps/new", s.manifestForm)
	mux.HandleFunc("/organizations/{org}/settings/apps/new", s.manifestForm)
	mux.HandleFunc("GET /login/oauth/authorize", s.oauthAuthorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.oauthAccessToken)
}

// manifestForm stands in for GitHub's "Create GitHub App" page: it accepts
// the posted manifest, "creates" the App at once (no user click to wait
// for) and redirects to the manifest's redirect_url with a one-time code.
func (s *Sim) manifestForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	raw := r.Form.Get("manifest")
	var m manifest
	if raw == "" || json.Unmarshal([]byte(raw), &m) != nil {
		http.Error(w, "Invalid GitHub App configuration: manifest is missing or not JSON", http.StatusUnprocessableEntity)
		return
	}
	if m.RedirectURL == "" || m.URL == "" {
		http.Error(w, "Invalid GitHub App configuration: url and redirect_url are required", http.StatusUnprocessableEntity)
		return
	}
	target, err := url.Parse(m.RedirectURL)
	if err != nil {
		http.Error(w, "Invalid GitHub App configuration: redirect_url is not a URL", http.StatusUnprocessableEntity)
		return
	}
	s.mu.Lock()
	code := s.newToken("")[:20]
	owner := r.PathValue("org")
	if owner == "" {
		owner = s.oauthUser
	}
	if owner == "" {
		owner = "octocat"
	}
	s.manifestCodes[code] = &manifestCode{Manifest: m, Owner: owner}
	s.mu.Unlock()
	q := target.Query()
	q.Set("code", code)
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	} else if st := r.Form.Get("state"); st != "" {
		q.Set("state", st)
	}
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// convertManifest serves POST /app-manifests/{code}/conversions: codes are
// single use. The new App joins the simulator (its JWTs verify, its webhooks
// go to the manifest's hook URL).
func (c *call) convertManifest() {
	const doc = "/apps/apps#create-a-github-app-from-a-manifest"
	s := c.s
	s.mu.Lock()
	mc := s.manifestCodes[c.r.PathValue("code")]
	if mc == nil || mc.Used {
		s.mu.Unlock()
		c.fail(http.StatusNotFound, "Not Found", doc)
		return
	}
	mc.Used = true
	s.mu.Unlock()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error", doc)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID()
	slug := strings.ToLower(strings.ReplaceAll(mc.Manifest.Name, " ", "-"))
	if slug == "" {
		slug = fmt.Sprintf("app-%d", id)
	}
	a := &app{ID: id, Slug: slug, Name: mc.Manifest.Name, Owner: mc.Owner, Key: &key.PublicKey,
		ClientID: "Iv1.sim" + strconv.FormatInt(id, 10), ClientSecret: s.newToken(""),
		WebhookURL: mc.Manifest.HookAttributes.URL, WebhookSecret: s.newToken(""), CreatedAt: s.clock.Now()}
	s.apps[id] = a
	o := s.appJSON(a)
	o["client_secret"] = a.ClientSecret
	o["webhook_secret"] = a.WebhookSecret
	o["pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	c.json(http.StatusCreated, o)
}

func (s *Sim) appByClientID(id string) *app {
	for _, k := range slices.Sorted(maps.Keys(s.apps)) {
		if s.apps[k].ClientID == id {
			return s.apps[k]
		}
	}
	return nil
}

// oauthAuthorize stands in for the user approving the App: it redirects
// straight back with a code for the "logged-in" user (SetOAuthUser, or the
// login query parameter).
func (s *Sim) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	a := s.appByClientID(q.Get("client_id"))
	user := q.Get("login")
	if user == "" {
		user = s.oauthUser
	}
	known := s.users[strings.ToLower(user)] != nil
	s.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case a == nil:
		http.Error(w, "The client_id is not valid", http.StatusNotFound)
		return
	case q.Get("redirect_uri") == "" || err != nil || !redirect.IsAbs():
		http.Error(w, "The redirect_uri MUST match the registered callback URL for this application.", http.StatusBadRequest)
		return
	case !known:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "<html><body>Sign in to GitHub to continue to %s (ghsim: no user logged in; call SetOAuthUser)</body></html>", html.EscapeString(a.Name))
		return
	}
	s.mu.Lock()
	code := s.newToken("")[:20]
	s.oauthCodes[code] = a.ClientID + "\x00" + user
	s.mu.Unlock()
	rq := redirect.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// oauthAccessToken exchanges a code. Like GitHub, failures answer 200 with an
// "error" field, and the format follows Accept (JSON or form-encoded).
func (s *Sim) oauthAccessToken(w http.ResponseWriter, r *http.Request) {
	params := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err == nil {
			for k, v := range body {
				params.Set(k, v)
			}
		}
	} else if err := r.ParseForm(); err == nil {
		params = r.Form
	}
	reply := func(v map[string]string) {
		if strings.Contains(r.Header.Get("Accept"), "json") {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_ = json.NewEncoder(w).Encode(v)
			return
		}
		f := url.Values{}
		for k, x := range v {
			f.Set(k, x)
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		_, _ = w.Write([]byte(f.Encode()))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByClientID(params.Get("client_id"))
	if a == nil || a.ClientSecret != params.Get("client_secret") {
		reply(map[string]string{"error": "incorrect_client_credentials",
			"error_description": "The client_id and/or client_secret passed are incorrect.",
			"error_uri":         "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"})
		return
	}
	who, ok := s.oauthCodes[params.Get("code")]
	client, user, _ := strings.Cut(who, "\x00")
	if !ok || client != a.ClientID {
		reply(map[string]string{"error": "bad_verification_code",
			"error_description": "The code passed is incorrect or expired.",
			"error_uri":         "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"})
		return
	}
	delete(s.oauthCodes, params.Get("code"))
	t := &token{Value: s.newToken("ghu_"), User: user, ExpiresAt: s.clock.Now().Add(8 * 3600 * 1e9)}
	s.tokens[t.Value] = t
	reply(map[string]string{"access_token": t.Value, "token_type": "bearer", "scope": ""})
}

func (c *call) getUser() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[strings.ToLower(c.tok.User)]
	if u == nil {
		c.fail(http.StatusUnauthorized, "Bad credentials", "")
		return
	}
	o := s.accountJSON(u.Login)
	var name, email any
	if u.Name != "" {
		name = u.Name
	}
	if u.Email != "" {
		email = u.Email
	}
	at := ts(s.clock.realStart.Add(-365 * 24 * 3600 * 1e9))
	for k, v := range map[string]any{
		"user_view_type": "private", "name": name, "email": email, "company": nil, "blog": "",
		"location": nil, "hireable": nil, "bio": nil, "twitter_username": nil, "notification_email": email,
		"public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": at, "updated_at": at, "private_gists": 0, "total_private_repos": 0,
		"owned_private_repos": 0, "disk_usage": 0, "collaborators": 0, "two_factor_authentication": true,
		"plan": obj{"name": "free", "space": 976562499, "collaborators": 0, "private_repos": 10000},
	} {
		o[k] = v
	}
	c.json(http.StatusOK, o)
}

func (c *call) listUserOrgs() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[strings.ToLower(c.tok.User)]
	var all []obj
	if u != nil {
		for _, login := range u.Orgs {
			if o := s.orgs[strings.ToLower(login)]; o != nil {
				all = append(all, s.orgJSON(o))
			}
		}
	}
	c.json(http.StatusOK, paginate(c, all))
}
