package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Run("json lines carry level, message and fields", func(t *testing.T) {
		var buf bytes.Buffer
		log, err := New(&buf, "info", FormatJSON)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Str("component", "test").Msg("hello")
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("not json: %q: %v", buf.String(), err)
		}
		if line["level"] != "info" || line["message"] != "hello" || line["component"] != "test" {
			t.Fatalf("unexpected line %v", line)
		}
	})
	t.Run("level filters lower levels", func(t *testing.T) {
		var buf bytes.Buffer
		log, _ := New(&buf, "warn", FormatJSON)
		log.Info().Msg("hidden")
		if buf.Len() != 0 {
			t.Fatalf("info written at warn level: %q", buf.String())
		}
	})
	t.Run("text is human readable", func(t *testing.T) {
		var buf bytes.Buffer
		log, _ := New(&buf, "debug", FormatText)
		log.Debug().Msg("readable")
		if !strings.Contains(buf.String(), "readable") || strings.HasPrefix(buf.String(), "{") {
			t.Fatalf("text output %q", buf.String())
		}
	})
	for _, bad := range []struct{ level, format string }{{"loud", "json"}, {"info", "xml"}, {"", "json"}} {
		t.Run("refuses level "+bad.level+" format "+bad.format, func(t *testing.T) {
			if _, err := New(&bytes.Buffer{}, bad.level, Format(bad.format)); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
