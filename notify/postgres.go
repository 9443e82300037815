package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/lib/pq"
	"github.com/rs/zerolog"
)

// DefaultChannel is the NOTIFY channel when Options.Channel is empty.
const DefaultChannel = "dispatchoor_events"

var channelName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Options configure the PostgreSQL bus. DSN is required.
type Options struct {
	// DSN is the lib/pq connection string of the shared database.
	DSN string
	// Channel is the NOTIFY channel, a lower-case identifier; replicas of
	// one installation must share it. Default DefaultChannel.
	Channel string
	Logger  zerolog.Logger
	// ReplicaID marks this replica's events; default random.
	ReplicaID string
	// PingInterval is how often the listening connection is checked;
	// default 5s. pq notices a closed connection at once, but a silent
	// network failure only through a ping.
	PingInterval time.Duration
	// PingTimeout: a ping unanswered this long makes the bus drop the
	// listener and build a new one; default 5s.
	PingTimeout time.Duration
	// MinReconnect and MaxReconnect bound pq's reconnect back-off;
	// defaults 100ms and 2s.
	MinReconnect, MaxReconnect time.Duration
}

// Postgres is the Bus over LISTEN/NOTIFY.
type Postgres struct {
	opts Options
	log  zerolog.Logger
	db   *sql.DB
	subs subscribers

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

var _ Bus = (*Postgres)(nil)

// New connects, starts listening and returns once LISTEN is in place, so
// that no event published after New returns is missed.
func New(ctx context.Context, opts Options) (*Postgres, error) {
	if opts.DSN == "" {
		return nil, errors.New("notify: a PostgreSQL DSN is required")
	}
	if opts.Channel == "" {
		opts.Channel = DefaultChannel
	}
	if !channelName.MatchString(opts.Channel) {
		return nil, fmt.Errorf("notify: channel %q must be a lower-case identifier of at most 63 bytes", opts.Channel)
	}
	if opts.ReplicaID == "" {
		opts.ReplicaID = newReplicaID()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.PingInterval, 5*time.Second)
	def(&opts.PingTimeout, 5*time.Second)
	def(&opts.MinReconnect, 100*time.Millisecond)
	def(&opts.MaxReconnect, 2*time.Second)

	db, err := sql.Open("postgres", opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("notify: open postgres: %w", err)
	}
	// Publishing is one short statement; two connections are plenty.
	db.SetMaxOpenConns(2)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("notify: connect to postgres: %w", err)
	}
	p := &Postgres{opts: opts, db: db, done: make(chan struct{})}
	p.log = opts.Logger.With().Str("component", "notify").Str("replica", opts.ReplicaID).Str("channel", opts.Channel).Logger()
	p.ctx, p.cancel = context.WithCancel(context.Background())
	l, err := p.listen(ctx)
	if err != nil {
		p.cancel()
		_ = db.Close()
		return nil, err
	}
	go p.run(l)
	return p, nil
}

// Publish sends ev to the other replicas. An event larger than a
// notification allows goes without its payload (Truncated).
func (p *Postgres) Publish(ctx context.Context, ev Event) error {
	ev.Replica = p.opts.ReplicaID
	b, err := encode(ev, MaxNotifyBytes)
	if err != nil {
		return fmt.Errorf("notify: publish: %w", err)
	}
	if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", p.opts.Channel, string(b)); err != nil {
		return fmt.Errorf("notify: publish %s: %w", ev.Kind, err)
	}
	return nil
}

// Subscribe registers fn for events from other replicas and resyncs.
func (p *Postgres) Subscribe(fn func(Event)) func() { return p.subs.add(fn) }

// ReplicaID identifies this replica.
func (p *Postgres) ReplicaID() string { return p.opts.ReplicaID }

// Close stops listening and closes the connections; nothing is delivered
// after it returns.
func (p *Postgres) Close() error {
	var err error
	p.once.Do(func() {
		p.cancel()
		<-p.done
		err = p.db.Close()
	})
	return err
}

// listen builds a pq.Listener and waits until its LISTEN is acknowledged.
func (p *Postgres) listen(ctx context.Context) (*pq.Listener, error) {
	l := pq.NewListener(p.opts.DSN, p.opts.MinReconnect, p.opts.MaxReconnect, p.onListenerEvent)
	errc := make(chan error, 1)
	go func() { errc <- l.Listen(p.opts.Channel) }()
	select {
	case err := <-errc:
		if err == nil {
			return l, nil
		}
		p.discard(l)
		return nil, fmt.Errorf("notify: listen on %s: %w", p.opts.Channel, err)
	case <-ctx.Done():
		p.discard(l)
		return nil, fmt.Errorf("notify: listen on %s: %w", p.opts.Channel, ctx.Err())
	}
}

// discard closes l. pq's goroutine may be blocked handing us a
// notification, so drain until it closes the channel.
func (p *Postgres) discard(l *pq.Listener) {
	_ = l.Close()
	go func() {
		for range l.Notify {
		}
	}()
}

func (p *Postgres) onListenerEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventDisconnected:
		p.log.Warn().Err(err).Msg("listener disconnected; reconnecting")
	case pq.ListenerEventConnectionAttemptFailed:
		p.log.Warn().Err(err).Msg("listener reconnect failed; retrying")
	case pq.ListenerEventReconnected:
		p.log.Info().Msg("listener reconnected; resyncing")
	}
}

// run delivers notifications until Close. pq reconnects by itself after a
// dropped connection and then sends nil, which becomes KindResync. A
// connection that silently stops answering is caught by the ping and
// replaced with a new listener, followed by a resync too.
func (p *Postgres) run(l *pq.Listener) {
	defer close(p.done)
	defer func() {
		if l != nil {
			p.discard(l)
		}
	}()
	tick := time.NewTicker(p.opts.PingInterval)
	defer tick.Stop()
	// One channel per ping: an abandoned ping that answers late writes
	// into its own buffer and can never be mistaken for a newer one.
	var pinged chan error
	var pingTimeout <-chan time.Time
	for {
		select {
		case <-p.ctx.Done():
			return
		case n := <-l.Notify:
			if n == nil {
				p.subs.deliver(Event{Kind: KindResync})
				continue
			}
			ev, err := decode(n.Extra)
			if err != nil {
				p.log.Warn().Err(err).Int("pid", n.BePid).Msg("ignoring a foreign notification")
				continue
			}
			if ev.Replica == p.opts.ReplicaID {
				continue
			}
			p.subs.deliver(ev)
		case <-tick.C:
			if pinged == nil {
				ch := make(chan error, 1)
				pinged, pingTimeout = ch, time.After(p.opts.PingTimeout)
				go func(l *pq.Listener) { ch <- l.Ping() }(l)
			}
		case err := <-pinged:
			pinged, pingTimeout = nil, nil
			if err != nil {
				// Usually pq is already reconnecting ("no connection").
				p.log.Debug().Err(err).Msg("listener ping failed")
			}
		case <-pingTimeout:
			p.log.Warn().Dur("timeout", p.opts.PingTimeout).Msg("listener ping unanswered; replacing the connection")
			pinged, pingTimeout = nil, nil
			p.discard(l)
			if l = p.relisten(); l == nil {
				return
			}
			p.subs.deliver(Event{Kind: KindResync})
		}
	}
}

// relisten builds a new listener, retrying until it works or Close.
func (p *Postgres) relisten() *pq.Listener {
	for {
		ctx, cancel := context.WithTimeout(p.ctx, p.opts.PingTimeout)
		l, err := p.listen(ctx)
		cancel()
		if err == nil {
			return l
		}
		if p.ctx.Err() != nil {
			return nil
		}
		p.log.Warn().Err(err).Msg("rebuilding listener")
		select {
		case <-p.ctx.Done():
			return nil
		case <-time.After(p.opts.MaxReconnect):
		}
	}
}
