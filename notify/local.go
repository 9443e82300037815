package notify

import (
	"context"
	"errors"
	"sync"
)

// Local is the in-process Bus. On SQLite there is exactly one replica, so
// Publish reaches no one — the replica already handled its own event. In
// tests, Peer adds replicas that share the bus, and Publish calls their
// subscribers directly, as PostgreSQL would deliver to other processes.
type Local struct {
	id   string
	net  *localNet
	subs subscribers
}

type localNet struct {
	mu      sync.Mutex
	members map[*Local]bool
}

var _ Bus = (*Local)(nil)

// NewLocal returns a bus for one replica.
func NewLocal() *Local {
	n := &localNet{members: map[*Local]bool{}}
	return n.join()
}

// Peer returns another replica on the same in-process bus.
func (l *Local) Peer() *Local { return l.net.join() }

func (n *localNet) join() *Local {
	l := &Local{id: newReplicaID(), net: n}
	n.mu.Lock()
	n.members[l] = true
	n.mu.Unlock()
	return l
}

// Publish calls the subscribers of every other replica on this bus,
// synchronously, with the same encoding and truncation as PostgreSQL so
// tests see what production would.
func (l *Local) Publish(_ context.Context, ev Event) error {
	ev.Replica = l.id
	b, err := encode(ev, MaxNotifyBytes)
	if err != nil {
		return err
	}
	l.net.mu.Lock()
	if !l.net.members[l] {
		l.net.mu.Unlock()
		return errors.New("notify: bus closed")
	}
	peers := make([]*Local, 0, len(l.net.members))
	for m := range l.net.members {
		if m != l {
			peers = append(peers, m)
		}
	}
	l.net.mu.Unlock()
	for _, p := range peers {
		got, err := decode(string(b))
		if err != nil {
			return err
		}
		p.subs.deliver(got)
	}
	return nil
}

// Subscribe registers fn for events from other replicas.
func (l *Local) Subscribe(fn func(Event)) func() { return l.subs.add(fn) }

// ReplicaID identifies this replica.
func (l *Local) ReplicaID() string { return l.id }

// Close leaves the bus; later Publishes fail and nothing more is delivered.
func (l *Local) Close() error {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	delete(l.net.members, l)
	return nil
}
