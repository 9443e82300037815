//go:build embedui

package ui

import (
	"embed"
	"io/fs"
)

// all: keeps files whose names start with "_" or "." that Vite may emit.
//
//go:embed all:dist
var dist embed.FS

const embedded = true

// FS returns the built dashboard (the contents of dist/) and true.
func FS() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path; "dist" is valid.
		return nil, false
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil, false
	}
	return sub, true
}
