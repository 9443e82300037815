package handlers

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// TestNewRegistersIssueCommentOnlyWithSlash proves the public constructor
// routes issue_comment to the slash service when one is given, and leaves
// the event unhandled (acknowledged, nothing run) when not.
func TestNewRegistersIssueCommentOnlyWithSlash(t *testing.T) {
	for _, tc := range []struct {
		name      string
		withSlash bool
		want      int
	}{
		{"with a slash service the comment is submitted", true, 1},
		{"without one the comment is acknowledged and ignored", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.SQLite(t)
			q, err := queue.New(queue.Options{Store: s, Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			rs := &recordingSlash{relevant: true}
			o := Options{Store: s, Queue: q, Logger: zerolog.Nop(), WebhookSecret: icSecret}
			if tc.withSlash {
				o.Slash = rs
			}
			h, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			if code := icPost(t, h, "wiring-1", icPayload(t, "created")); code/100 != 2 {
				t.Fatalf("status %d, want 2xx", code)
			}
			if got := rs.count(); got != tc.want {
				t.Fatalf("submitted %d comments, want %d", got, tc.want)
			}
		})
	}
}
