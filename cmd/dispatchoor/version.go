package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// buildVersion reports the release version, or the module version and VCS
// revision recorded by the Go toolchain for a plain `go build`.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("version", stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "dispatchoor", buildVersion())
	return nil
}
