package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Stamped by `make release` with -ldflags "-X main.version=... -X
// main.commit=... -X main.buildDate=...".
var (
	version   = ""
	commit    = ""
	buildDate = ""
)

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
	if c := vcsRevision(); len(c) >= 12 {
		v += "+" + c[:12]
	}
	return v
}

// vcsRevision is the stamped commit, else the one the toolchain recorded.
func vcsRevision() string {
	if commit != "" {
		return commit
	}
	return buildSetting("vcs.revision")
}

func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("version", stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	date := buildDate
	if date == "" {
		date = buildSetting("vcs.time")
	}
	fmt.Fprintln(stdout, "dispatchoor", buildVersion())
	fmt.Fprintf(stdout, "  commit  %s\n  built   %s\n  go      %s %s/%s\n",
		orUnknown(vcsRevision()), orUnknown(date), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
