package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"unicode/utf8"
)

// Event kinds cmd is expected to use; Kind is free text, these keep the
// words the same on every replica.
const (
	// KindResync: events may have been missed (the listener reconnected);
	// re-read whatever state you show. Delivered by the bus itself.
	KindResync = "resync"
	// KindWake: capacity may have appeared; the leader's dispatcher should
	// run a pass.
	KindWake = "wake"
	// KindJob: a job changed (JobID); re-read it.
	KindJob = "job"
	// KindQueue: a group's queue changed (GroupID).
	KindQueue = "queue"
	// KindGroup: a group changed (GroupID), e.g. paused.
	KindGroup = "group"
	// KindRunner: a runner changed; Payload carries it.
	KindRunner = "runner"
	// KindSystem: system status changed, e.g. a new leader.
	KindSystem = "system"
)

// MaxNotifyBytes is PostgreSQL's limit: a NOTIFY payload must be shorter
// than 8000 bytes in the default build.
const MaxNotifyBytes = 7999

// ErrTooLarge: even without its payload the event does not fit in a
// notification (its ids are absurdly long).
var ErrTooLarge = errors.New("event too large for a notification")

// Event is one cross-replica hint. Receivers treat it as "something about
// these ids changed": re-read the database for the truth.
type Event struct {
	Kind    string          `json:"kind"`
	GroupID string          `json:"group_id,omitempty"`
	JobID   int64           `json:"job_id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// Replica is the publisher's id, set by Publish.
	Replica string `json:"replica,omitempty"`
	// Truncated says Payload was dropped to fit the limit.
	Truncated bool `json:"truncated,omitempty"`
}

// Bus publishes events to the other replicas and delivers theirs.
type Bus interface {
	// Publish sends ev to every other replica. It never delivers to this
	// replica's own subscribers.
	Publish(ctx context.Context, ev Event) error
	// Subscribe calls fn for each event from another replica, and for
	// KindResync after a gap. fn runs on the bus's delivery goroutine and
	// must not block. The returned func unsubscribes.
	Subscribe(fn func(Event)) (unsubscribe func())
	// ReplicaID identifies this replica in published events.
	ReplicaID() string
	Close() error
}

// encode marshals ev for a notification, dropping the payload when the
// whole would exceed limit bytes.
func encode(ev Event, limit int) ([]byte, error) {
	if ev.Kind == "" {
		return nil, errors.New("event without a kind")
	}
	// JSON would silently turn invalid UTF-8 into U+FFFD, and the receiver
	// would look up a group that does not exist.
	if !utf8.ValidString(ev.Kind) || !utf8.ValidString(ev.GroupID) {
		return nil, fmt.Errorf("event %q: kind and group id must be valid UTF-8", ev.Kind)
	}
	if len(ev.Payload) > 0 && !json.Valid(ev.Payload) {
		return nil, fmt.Errorf("event %s: payload is not valid JSON", ev.Kind)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.Kind, err)
	}
	if len(b) <= limit {
		return b, nil
	}
	ev.Payload, ev.Truncated = nil, true
	if b, err = json.Marshal(ev); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.Kind, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("event %s of %d bytes without payload: %w", ev.Kind, len(b), ErrTooLarge)
	}
	return b, nil
}

// decode parses a notification. Anyone with access to the database can
// NOTIFY on the channel, so malformed input is an error, never a panic.
func decode(s string) (Event, error) {
	var ev Event
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if ev.Kind == "" {
		return Event{}, errors.New("decode event: no kind")
	}
	return ev, nil
}

// newReplicaID is a random id; replicas need only tell each other apart.
func newReplicaID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// subscribers is the callback list both buses share.
type subscribers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(Event)
}

func (s *subscribers) add(fn func(Event)) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fns == nil {
		s.fns = map[int]func(Event){}
	}
	id := s.next
	s.next++
	s.fns[id] = fn
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.fns, id)
		})
	}
}

// deliver calls every subscriber without holding the lock, so a subscriber
// may publish or unsubscribe from inside its callback.
func (s *subscribers) deliver(ev Event) {
	s.mu.Lock()
	fns := make([]func(Event), 0, len(s.fns))
	for _, id := range slices.Sorted(maps.Keys(s.fns)) {
		fns = append(fns, s.fns[id])
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}
