package hub

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const (
	testGroup  = "g1"
	otherGroup = "g2"
)

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second) // generous: the machine may be loaded
	defer deadline.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatal("condition not met in 30s")
		case <-time.After(20 * time.Millisecond): // a full interval after each check, like a sleep
		}
	}
}

func readMsg(t *testing.T, conn *websocket.Conn, wantType string) wsMessage {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", wantType, err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("bad message %s: %v", b, err)
		}
		if m.Type == wantType {
			return m
		}
	}
}
