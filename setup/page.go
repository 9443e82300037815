package setup

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// pageTmpl is the stop-gap setup page until the React UI takes it over. It
// needs no script: the button submits a form whose hidden field holds the
// manifest JSON (html/template escapes it for the attribute).
var pageTmpl = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dispatchoor setup</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
code{background:#f6f8fa;padding:0 .3em;border-radius:4px}
button{font:inherit;padding:.5em 1.2em;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}
button.secondary{background:#f6f8fa;color:#1f2328;border-color:#d0d9e0}
input{font:inherit;padding:.35em .5em;border:1px solid #d0d9e0;border-radius:6px}
li{margin:.1em 0}
</style></head>
<body>
<h1>Set up dispatchoor</h1>
<p>No GitHub App is configured yet. dispatchoor can create one for you through
GitHub's manifest flow: GitHub asks you to confirm, then sends the new App's
credentials back here, where they are stored encrypted.</p>
<p>The App will be created {{if .Org}}in the organization <strong>{{.Org}}</strong>{{else}}on <strong>your personal account</strong>{{end}}
as <strong>{{.Manifest.Name}}</strong> (you can rename it on GitHub's page), with webhooks sent to
<code>{{.Manifest.HookAttributes.URL}}</code>.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.JSON}}">
<button type="submit">Create GitHub App</button>
</form>
<h2>Owner and name</h2>
<form method="get" action="{{.PagePath}}">
<p><label>Organization (empty: your account) <input name="org" value="{{.Org}}" pattern="[A-Za-z0-9-]{1,39}"></label></p>
<p><label>App name <input name="name" value="{{.Manifest.Name}}" maxlength="34"></label></p>
<button class="secondary" type="submit">Update</button>
</form>
<h2>What the App may do</h2>
<ul>{{range .Permissions}}<li><code>{{.}}</code></li>{{end}}</ul>
<p>Events: {{range $i, $e := .Manifest.DefaultEvents}}{{if $i}}, {{end}}<code>{{$e}}</code>{{end}}.</p>
<p>After creating the App, install it on the organizations whose runners dispatchoor should keep busy.</p>
</body></html>
`))

// page serves GET /setup.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	st, code, err := h.begin(w, r)
	if err != nil {
		h.fail(w, code, err)
		return
	}
	perms := make([]string, 0, len(st.Manifest.DefaultPermissions))
	for k, v := range st.Manifest.DefaultPermissions {
		perms = append(perms, k+": "+v)
	}
	slices.Sort(perms)
	web, _ := url.Parse(h.webURL)    // validated in New
	pub, _ := url.Parse(h.publicURL) // validated in New
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer") // the form URL carries the state
	hd.Set("X-Frame-Options", "DENY")        // no clickjacking into creating an App
	hd.Set("X-Content-Type-Options", "nosniff")
	// form-action also covers the redirects that follow the submission
	// (GitHub → our callback), hence our own origin.
	hd.Set("Content-Security-Policy", strings.Join([]string{
		"default-src 'none'", "style-src 'unsafe-inline'", "base-uri 'none'", "frame-ancestors 'none'",
		"form-action 'self' " + origin(web) + " " + origin(pub),
	}, "; "))
	w.WriteHeader(http.StatusOK)
	if err := pageTmpl.Execute(w, struct {
		start
		PagePath    string
		Permissions []string
	}{st, h.publicURL + pagePath, perms}); err != nil {
		h.log.Error().Err(err).Msg("render setup page")
	}
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
