//go:build !embedui

package ui

import "io/fs"

const embedded = false

// FS reports that this binary was built without the dashboard (no embedui
// build tag); the server then serves the API alone.
func FS() (fs.FS, bool) { return nil, false }
