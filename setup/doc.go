// Package setup is dispatchoor's setup mode: with no GitHub App configured,
// it creates one through GitHub's App-manifest flow and keeps its
// credentials in the database, sealed with DISPATCHOOR_SECRET_KEY.
//
// The flow (docs/DEPLOY.md, setup): GET /setup shows a "Create GitHub App" form that
// posts app-manifest.yml, rendered with server.public_url, to
// {web_url}/settings/apps/new (or /organizations/{org}/settings/apps/new).
// GitHub creates the App and sends the browser to
// /api/v1/setup/callback?code=…&state=…; the state must be one this server
// sealed, unexpired, unused and matching the browser's cookie (CSRF). The
// code is converted with POST {api_url}app-manifests/{code}/conversions and
// the App's id, slug, private key, webhook secret and OAuth client are
// stored as one sealed record (Save, Load). Once an App is configured —
// from the config file or the database — every setup route but status
// answers 409, so an unauthenticated page can never replace the App.
//
// At start-up cmd calls Resolve: it builds the secretbox from the
// environment, loads stored credentials, or says setup mode is needed; a
// missing key is a clear error whenever one is needed.
//
// It may import config, secretbox and store (for store.ErrNotFound) and
// go-github; it must never import server, handlers, dispatcher or gh: the
// server mounts Handler, not the other way round.
package setup
