// Package ghsim is a GitHub simulator: the subset of GitHub's REST API that
// dispatchoor uses, under a GitHub Enterprise Server style base (/api/v3/),
// plus simulated self-hosted runners that pick up dispatched runs, and the
// signed webhooks GitHub would send at every step.
//
// GitHub cannot be reached from our machines, so tests, `dispatchoor demo`,
// the benchmarks and the chaos suite all run against this package. It is only
// worth something if it behaves like GitHub: its payloads and responses are
// checked against GitHub's published OpenAPI description and webhook schemas
// (see README.md and the conformance tests).
//
// It must never import any other package of this module: it models GitHub,
// not dispatchoor.
package ghsim
