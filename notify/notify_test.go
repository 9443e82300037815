package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEncode(t *testing.T) {
	big := json.RawMessage(`"` + strings.Repeat("x", 9000) + `"`)
	for _, tc := range []struct {
		name          string
		ev            Event
		wantErr       error
		wantErrText   string
		wantTruncated bool
	}{
		{name: "small event keeps its payload", ev: Event{Kind: KindJob, GroupID: "g", JobID: 7, Payload: json.RawMessage(`{"status":"running"}`)}},
		{name: "payload over the limit is dropped, ids kept", ev: Event{Kind: KindJob, GroupID: "g", JobID: 7, Payload: big}, wantTruncated: true},
		{name: "ids too long even without payload", ev: Event{Kind: KindQueue, GroupID: strings.Repeat("g", 8000)}, wantErr: ErrTooLarge},
		{name: "payload that is not JSON is refused", ev: Event{Kind: KindJob, Payload: json.RawMessage(`{nope`)}, wantErrText: "not valid JSON"},
		{name: "event without a kind is refused", ev: Event{GroupID: "g"}, wantErrText: "without a kind"},
		{name: "group id that is not UTF-8 is refused, not silently altered", ev: Event{Kind: KindQueue, GroupID: "g\xff"}, wantErrText: "valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encode(tc.ev, MaxNotifyBytes)
			switch {
			case tc.wantErr != nil || tc.wantErrText != "":
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Fatalf("encode = %v, want error %v %q", err, tc.wantErr, tc.wantErrText)
				}
				return
			case err != nil:
				t.Fatalf("encode: %v", err)
			}
			if len(b) > MaxNotifyBytes {
				t.Fatalf("encoded %d bytes, over the %d limit", len(b), MaxNotifyBytes)
			}
			got, err := decode(string(b))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Kind != tc.ev.Kind || got.GroupID != tc.ev.GroupID || got.JobID != tc.ev.JobID || got.Truncated != tc.wantTruncated {
				t.Fatalf("round trip = %+v, want ids of %+v with truncated=%v", got, tc.ev, tc.wantTruncated)
			}
			if !tc.wantTruncated && string(got.Payload) != string(tc.ev.Payload) {
				t.Fatalf("payload = %s, want %s", got.Payload, tc.ev.Payload)
			}
			if tc.wantTruncated && got.Payload != nil {
				t.Fatalf("truncated event still carries %d payload bytes", len(got.Payload))
			}
		})
	}
}

func TestDecodeRejectsForeignNotifications(t *testing.T) {
	for _, in := range []string{"", "hello", "{}", `{"kind":""}`, `[1,2]`, `{"kind":5}`} {
		if ev, err := decode(in); err == nil {
			t.Errorf("decode(%q) = %+v, want an error", in, ev)
		}
	}
}

// collect subscribes to bus and returns a channel of what it delivers.
func collect(t *testing.T, bus Bus) <-chan Event {
	t.Helper()
	ch := make(chan Event, 64)
	unsub := bus.Subscribe(func(ev Event) {
		select {
		case ch <- ev:
		default:
			t.Errorf("subscriber buffer full; dropped %+v", ev)
		}
	})
	t.Cleanup(unsub)
	return ch
}

// next waits for the next event on ch.
func next(t *testing.T, ch <-chan Event, within time.Duration) Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %s", within)
		return Event{}
	}
}

// none asserts ch stays quiet.
func none(t *testing.T, ch <-chan Event, within time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(within):
	}
}

func TestLocal(t *testing.T) {
	ctx := context.Background()
	t.Run("a peer receives the event, the publisher does not", func(t *testing.T) {
		a := NewLocal()
		b := a.Peer()
		onA, onB := collect(t, a), collect(t, b)
		if err := a.Publish(ctx, Event{Kind: KindWake, GroupID: "g1"}); err != nil {
			t.Fatal(err)
		}
		got := next(t, onB, time.Second)
		if got.Kind != KindWake || got.GroupID != "g1" || got.Replica != a.ReplicaID() {
			t.Fatalf("b got %+v", got)
		}
		none(t, onA, 20*time.Millisecond)
	})
	t.Run("a single replica publishes to no one", func(t *testing.T) {
		a := NewLocal()
		onA := collect(t, a)
		if err := a.Publish(ctx, Event{Kind: KindWake}); err != nil {
			t.Fatal(err)
		}
		none(t, onA, 20*time.Millisecond)
	})
	t.Run("an unsubscribed callback gets nothing", func(t *testing.T) {
		a := NewLocal()
		b := a.Peer()
		calls := 0
		unsub := b.Subscribe(func(Event) { calls++ })
		unsub()
		unsub() // twice is harmless
		_ = a.Publish(ctx, Event{Kind: KindWake})
		if calls != 0 {
			t.Fatalf("calls = %d after unsubscribe", calls)
		}
	})
	t.Run("a subscriber may publish from its callback", func(t *testing.T) {
		a := NewLocal()
		b := a.Peer()
		onA := collect(t, a)
		b.Subscribe(func(ev Event) {
			if ev.Kind == KindJob {
				_ = b.Publish(ctx, Event{Kind: KindQueue, GroupID: ev.GroupID})
			}
		})
		_ = a.Publish(ctx, Event{Kind: KindJob, GroupID: "g", JobID: 1})
		if got := next(t, onA, time.Second); got.Kind != KindQueue || got.GroupID != "g" {
			t.Fatalf("a got %+v", got)
		}
	})
	t.Run("oversized payload arrives truncated with its ids", func(t *testing.T) {
		a := NewLocal()
		onB := collect(t, a.Peer())
		_ = a.Publish(ctx, Event{Kind: KindRunner, JobID: 9, Payload: json.RawMessage(`"` + strings.Repeat("r", 9000) + `"`)})
		if got := next(t, onB, time.Second); !got.Truncated || got.JobID != 9 || got.Payload != nil {
			t.Fatalf("b got %+v", got)
		}
	})
	t.Run("a closed replica cannot publish and is not delivered to", func(t *testing.T) {
		a := NewLocal()
		b := a.Peer()
		onB := collect(t, b)
		_ = b.Close()
		if err := a.Publish(ctx, Event{Kind: KindWake}); err != nil {
			t.Fatal(err)
		}
		none(t, onB, 20*time.Millisecond)
		if err := b.Publish(ctx, Event{Kind: KindWake}); err == nil {
			t.Fatal("publish on a closed bus succeeded")
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"kind":"job","group_id":"g","job_id":3,"payload":{"a":1},"replica":"r"}`, `{"kind":"resync"}`, `{}`, `null`, `{"kind":"x","payload":"\u0000"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := decode(s)
		if err != nil {
			return
		}
		if ev.Kind == "" {
			t.Fatalf("decode(%q) accepted an event without a kind", s)
		}
		b, err := encode(ev, MaxNotifyBytes)
		if err != nil {
			return // e.g. ids too long: a clear error, never a panic
		}
		again, err := decode(string(b))
		if err != nil || again.Kind != ev.Kind || again.GroupID != ev.GroupID || again.JobID != ev.JobID {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
	})
}

func FuzzEncodeFitsTheLimit(f *testing.F) {
	f.Add("job", "g", int64(1), 10, 200)
	f.Add("queue", "group-with-a-longer-name", int64(-5), 9000, 1000)
	f.Fuzz(func(t *testing.T, kind, group string, job int64, payloadLen, limit int) {
		if payloadLen < 0 || payloadLen > 20000 || limit < 0 || limit > MaxNotifyBytes {
			return
		}
		ev := Event{Kind: kind, GroupID: group, JobID: job, Payload: json.RawMessage(`"` + strings.Repeat("p", payloadLen) + `"`)}
		b, err := encode(ev, limit)
		if err != nil {
			return
		}
		if len(b) > limit {
			t.Fatalf("encoded %d bytes over limit %d", len(b), limit)
		}
		got, err := decode(string(b))
		if err != nil || got.GroupID != ev.GroupID || got.JobID != job {
			t.Fatalf("ids lost: %+v, %v", got, err)
		}
	})
}
