// Package chaos proves, against the real binary, that no job is lost and none
// is dispatched twice whatever breaks: the tests host the GitHub simulator
// (ghsim) in the test process, so simulated GitHub outlives the server, run
// `dispatchoor server` as a subprocess, inject webhook and REST faults, and
// SIGKILL the server (or the leader replica) at random moments.
//
// The short suite runs in `go test ./chaos/...` (and so in `make test`); the
// long ones need DISPATCHOOR_CHAOS_LONG=1. docs/RELIABILITY.md has the
// commands and the figures measured.
//
// Everything lives in test files: the package has no API. It must never
// import the product's internal packages beyond what a client of the binary
// would see (ghsim, storetest): it talks to the server over HTTP only.
package chaos
