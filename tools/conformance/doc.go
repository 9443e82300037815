// Package conformance holds ghsim (and anything else that imitates GitHub) to
// GitHub's own published descriptions: webhook payloads against
// @octokit/webhooks-schemas, REST responses against the matching operation of
// @octokit/openapi (api.github.com or GHES 3.19), and it hands out the real
// example payloads of @octokit/webhooks-examples.
//
// The descriptions are npm packages, installed at test time into node/ (never
// committed) and checked by a small long-lived Node process (node/validate.mjs)
// using Ajv, because no Go validator handles GitHub's 13 MB OpenAPI 3.0
// document and its nullable conventions as faithfully.
//
// It is test support: only _test.go files of other packages may import it,
// it may import testing, and it must never import another package of this
// module, so that any package's tests can use it without cycles.
package conformance
