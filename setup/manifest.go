package setup

import (
	"bytes"
	_ "embed" // the App manifest travels inside the binary
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// manifestYAML is a copy of the repository's app-manifest.yml: go:embed
// cannot reach a parent folder. `go generate ./setup` refreshes it and
// TestEmbeddedManifestIsTheRepositoryManifest fails when the two differ.
//
//go:generate cp ../app-manifest.yml app-manifest.yml
//go:embed app-manifest.yml
var manifestYAML []byte

// placeholder is replaced by server.public_url in every string of the
// manifest. It is substituted after YAML parsing, never in the raw text, so
// a public URL cannot change the manifest's structure.
const placeholder = "{{public_url}}"

// maxAppName is GitHub's limit on a GitHub App's name.
const maxAppName = 34

// ManifestDoc is the JSON GitHub's manifest flow accepts
// (docs.github.com: "Registering a GitHub App from a manifest").
type ManifestDoc struct {
	Name                  string            `yaml:"name" json:"name"`
	Description           string            `yaml:"description" json:"description"`
	URL                   string            `yaml:"url" json:"url"`
	HookAttributes        HookAttributes    `yaml:"hook_attributes" json:"hook_attributes"`
	RedirectURL           string            `yaml:"redirect_url" json:"redirect_url"`
	CallbackURLs          []string          `yaml:"callback_urls" json:"callback_urls"`
	SetupURL              string            `yaml:"setup_url" json:"setup_url,omitempty"`
	SetupOnUpdate         bool              `yaml:"setup_on_update" json:"setup_on_update,omitempty"`
	RequestOAuthOnInstall bool              `yaml:"request_oauth_on_install" json:"request_oauth_on_install"`
	Public                bool              `yaml:"public" json:"public"`
	DefaultPermissions    map[string]string `yaml:"default_permissions" json:"default_permissions"`
	DefaultEvents         []string          `yaml:"default_events" json:"default_events"`
}

// HookAttributes configures the App's webhook.
type HookAttributes struct {
	URL    string `yaml:"url" json:"url"`
	Active bool   `yaml:"active" json:"active"`
}

// Manifest renders the embedded app-manifest.yml as the JSON GitHub's
// manifest flow expects, with every URL under publicURL and the App named
// by DefaultAppName.
func Manifest(publicURL string) ([]byte, error) {
	return ManifestNamed(publicURL, DefaultAppName(publicURL))
}

// ManifestNamed is Manifest with an explicit App name. GitHub App names are
// unique across all of GitHub (and at most 34 characters), so a second
// installation of dispatchoor cannot reuse the name of the first.
func ManifestNamed(publicURL, name string) ([]byte, error) {
	doc, err := manifestDoc(publicURL, name)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode app manifest: %w", err)
	}
	return out, nil
}

func manifestDoc(publicURL, name string) (ManifestDoc, error) {
	base, err := normalizePublicURL(publicURL)
	if err != nil {
		return ManifestDoc{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > maxAppName {
		return ManifestDoc{}, fmt.Errorf("app manifest: name %q must be 1 to %d characters (a GitHub limit)", name, maxAppName)
	}
	doc, err := parseManifest(manifestYAML)
	if err != nil {
		return ManifestDoc{}, err
	}
	fill := func(s string) string { return strings.ReplaceAll(s, placeholder, base) }
	doc.Name = name
	doc.URL = fill(doc.URL)
	doc.HookAttributes.URL = fill(doc.HookAttributes.URL)
	doc.RedirectURL = fill(doc.RedirectURL)
	doc.SetupURL = fill(doc.SetupURL)
	for i, u := range doc.CallbackURLs {
		doc.CallbackURLs[i] = fill(u)
	}
	return doc, nil
}

// parseManifest decodes app-manifest.yml strictly: a key GitHub's manifest
// does not know is an error here rather than a setting silently dropped.
func parseManifest(raw []byte) (ManifestDoc, error) {
	var doc ManifestDoc
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return ManifestDoc{}, fmt.Errorf("parse app-manifest.yml: %w", err)
	}
	switch {
	case doc.URL == "" || doc.HookAttributes.URL == "" || doc.RedirectURL == "":
		return ManifestDoc{}, errors.New("parse app-manifest.yml: url, hook_attributes.url and redirect_url are required")
	case len(doc.DefaultPermissions) == 0 || len(doc.DefaultEvents) == 0:
		return ManifestDoc{}, errors.New("parse app-manifest.yml: default_permissions and default_events are required")
	}
	return doc, nil
}

// normalizePublicURL accepts an absolute http(s) URL without query or
// fragment and returns it without a trailing slash.
func normalizePublicURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("public_url %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("public_url %q must be an absolute http(s) URL without credentials, query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// DefaultAppName names the App after the host it runs on
// ("dispatchoor-ci-example-com"), so that several installations can coexist
// on GitHub, and keeps within GitHub's 34 characters. The person creating
// the App can still change it on GitHub's page.
func DefaultAppName(publicURL string) string {
	const base = "dispatchoor"
	u, err := url.Parse(strings.TrimSpace(publicURL))
	if err != nil || u.Hostname() == "" {
		return base
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(u.Hostname()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	host := strings.Trim(b.String(), "-")
	if host == "" {
		return base
	}
	name := base + "-" + host
	if len(name) > maxAppName {
		name = strings.TrimRight(name[:maxAppName], "-")
	}
	return name
}
