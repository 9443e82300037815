// Package logging builds the process's zerolog logger from the command-line
// flags. It holds no state: the logger it returns is passed explicitly to
// every component, which adds its own "component" field.
package logging

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Format is how log lines are written.
type Format string

const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// New returns a logger writing to w at the given level ("debug", "info",
// "warn", "error") in the given format.
func New(w io.Writer, level string, format Format) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("log level %q: want trace, debug, info, warn or error", level)
	}
	switch format {
	case FormatJSON:
	case FormatText:
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	default:
		return zerolog.Nop(), fmt.Errorf("log format %q: want text or json", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
