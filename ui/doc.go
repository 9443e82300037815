// Package ui holds the web dashboard (a React app under src/, built by Vite
// into dist/) and the Go side that serves it: FS returns the embedded build
// when the binary was built with -tags embedui, and Handler serves any such
// file system with client-side routes falling back to index.html.
//
// Without the embedui tag nothing here depends on a built dist, so
// `go build ./...` and `go test ./...` work on a clean clone without Node.
//
// It must never import other dispatchoor packages: the server mounts it, not
// the other way round.
package ui
