package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/olahol/melody"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/events"
	"github.com/ethpandaops/dispatchoor/metrics"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// WebSocket message types (docs/API.md, Live updates).
const (
	MsgRunnerStatus = "runner_status"
	MsgJobState     = "job_state"
	MsgQueueUpdate  = "queue_update"
	MsgGroupUpdate  = "group_update"
	MsgSystemStatus = "system_status"
)

const (
	keySubs    = "subs"    // map[string]bool of subscribed group ids
	keyDropped = "dropped" // set once a slow client is being dropped
	eventQueue = 1024
)

// wsMessage is what clients receive. GroupID is set for group-scoped
// messages, which only clients subscribed to that group get.
type wsMessage struct {
	Type    string `json:"type"`
	GroupID string `json:"group_id,omitempty"`
	Data    any    `json:"data"`
}

// Options are the hub's dependencies; all optional.
type Options struct {
	Logger  zerolog.Logger
	Metrics *metrics.Metrics
	// Store supplies queue counts and groups for queue_update and
	// group_update, and the runners behind the fleet gauges.
	Store Store
	// JobView renders a job in job_state messages, as the HTTP API shows
	// it (server.JobView); nil sends core.Job as is.
	JobView func(core.Job) any
	// RefreshSpacing is the least time between two reads behind the
	// queue_update messages and the queue and fleet gauges; 0 means
	// 500ms. Changes arriving faster are coalesced into one read.
	RefreshSpacing time.Duration
	// BufferSize is each client's outgoing queue; a client that lets it
	// fill is dropped. 0 means 256.
	BufferSize int
	// WriteWait bounds one write to a client; 0 means 5s.
	WriteWait time.Duration
}

// Hub fans events out to WebSocket clients. It implements queue.Events and
// takes runner and system events through methods, so updates are pushed as
// they happen, never polled. Event methods never block the caller: events
// go through a bounded queue to one goroutine.
type Hub struct {
	m       *melody.Melody
	log     zerolog.Logger
	metrics *metrics.Metrics
	store   Store
	jobView func(core.Job) any
	events  chan func(ctx context.Context)
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	// runnerGauges and queues coalesce the whole-table reads behind the
	// gauges and queue_update; they run until cancelRefresh.
	runnerGauges  *coalescer
	queues        *coalescer
	dirtyGroups   dirtySet
	cancelRefresh context.CancelFunc
	refreshers    sync.WaitGroup
	// waited holds live jobs whose wait was observed (event goroutine only).
	waited map[int64]struct{}
	// ran holds ended jobs whose run time was observed, so a terminal job
	// announced again is not counted twice; cleared when it grows past
	// maxRan (event goroutine only).
	ran map[int64]struct{}
}

var (
	_ queue.Events     = (*Hub)(nil)
	_ events.Dashboard = (*Hub)(nil)
)

// New builds the hub and starts its event loop; Close stops it. cmd
// subscribes it to the events router as a dashboard
// (docs/ARCHITECTURE.md, "Event flow") and hands it to the server, which
// mounts it behind its authentication.
func New(o Options) *Hub {
	m := melody.New()
	m.Config.MaxMessageSize = 4096
	if o.BufferSize > 0 {
		m.Config.MessageBufferSize = o.BufferSize
	}
	// A write to a client that stopped reading gives up after writeWait and
	// closes the connection; melody's own Close cannot, because its close
	// frame would queue behind the full buffer.
	m.Config.WriteWait = 5 * time.Second
	if o.WriteWait > 0 {
		m.Config.WriteWait = o.WriteWait
	}
	// Until the server sets its origins, refuse every browser.
	m.Upgrader.CheckOrigin = func(r *http.Request) bool { return r.Header.Get("Origin") == "" }
	// A nil *store.Store in the interface would not compare equal to nil.
	if st, ok := o.Store.(*store.Store); ok && st == nil {
		o.Store = nil
	}
	if o.JobView == nil {
		o.JobView = func(j core.Job) any { return j }
	}
	h := &Hub{
		m: m, log: o.Logger.With().Str("component", "ws").Logger(), metrics: o.Metrics, store: o.Store, jobView: o.JobView,
		events: make(chan func(context.Context), eventQueue), stop: make(chan struct{}), done: make(chan struct{}),
		waited: map[int64]struct{}{},
		ran:    map[int64]struct{}{},
	}
	h.startRefreshers(o.RefreshSpacing)
	m.HandleConnect(func(*melody.Session) { h.metrics.WebSocketClients(m.Len()) })
	m.HandleDisconnect(func(*melody.Session) { h.metrics.WebSocketClients(m.Len()) })
	m.HandleMessage(h.onMessage)
	m.HandleError(h.onError)
	go h.run()
	return h
}

// originAllowed: browsers always send Origin on a WebSocket handshake, and a
// cookie-authenticated socket opened by another site would read the user's
// data, so a present Origin must be ours. Non-browser clients send none.
func originAllowed(origin string, allowed []string) bool {
	if origin == "" {
		return true
	}
	return slices.Contains(allowed, strings.TrimRight(origin, "/"))
}

// SetOrigins sets the origins a browser's handshake may come from (the
// server's public URL and CORS origins); until then every browser is
// refused.
func (h *Hub) SetOrigins(allowed []string) {
	h.m.Upgrader.CheckOrigin = func(r *http.Request) bool { return originAllowed(r.Header.Get("Origin"), allowed) }
}

// Flush returns once every event queued before it has been sent.
func (h *Hub) Flush() {
	done := make(chan struct{})
	select {
	case h.events <- func(context.Context) { close(done) }:
	case <-h.stop:
		return
	}
	select {
	case <-done:
	case <-h.done:
	}
}

type subscribeMessage struct {
	Subscribe []string `json:"subscribe"`
}

func (h *Hub) onMessage(sess *melody.Session, msg []byte) {
	var sm subscribeMessage
	if err := json.Unmarshal(msg, &sm); err != nil || sm.Subscribe == nil {
		h.send(sess, wsMessage{Type: "error", Data: map[string]string{"error": `send {"subscribe": ["group-id", ...]}`}})
		return
	}
	subs := make(map[string]bool, len(sm.Subscribe))
	for _, g := range sm.Subscribe {
		subs[g] = true
	}
	// Replaced whole, never mutated: the broadcast filter reads it from the
	// melody hub's goroutine.
	sess.Set(keySubs, subs)
	h.send(sess, wsMessage{Type: "subscribed", Data: sm.Subscribe})
}

func (h *Hub) send(sess *melody.Session, m wsMessage) {
	b, err := json.Marshal(m)
	if err == nil {
		_ = sess.Write(b)
	}
}

// onError runs on melody's hub goroutine; it must not block. A full buffer
// marks the client dropped (the filter then skips it) and the stuck write's
// deadline closes the connection; every other client keeps receiving.
func (h *Hub) onError(sess *melody.Session, err error) {
	if !errors.Is(err, melody.ErrMessageBufferFull) {
		return
	}
	if _, already := sess.Get(keyDropped); already {
		return
	}
	sess.Set(keyDropped, true)
	h.metrics.WebSocketDropped()
	h.log.Warn().Str("remote", sess.Request.RemoteAddr).Msg("dropping a websocket client that does not read")
	go func() { _ = sess.Close() }()
}

// Close stops the gauge refreshers, disconnects every client and stops the
// event loop.
func (h *Hub) Close() error {
	h.once.Do(func() {
		h.cancelRefresh()
		h.refreshers.Wait()
		close(h.stop)
		<-h.done
		_ = h.m.Close()
	})
	return nil
}

// Clients is the number of connected clients.
func (h *Hub) Clients() int { return h.m.Len() }

func (h *Hub) run() {
	defer close(h.done)
	for {
		select {
		case <-h.stop:
			return
		case fn := <-h.events:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			fn(ctx)
			cancel()
		}
	}
}

func (h *Hub) enqueue(fn func(ctx context.Context)) {
	select {
	case h.events <- fn:
	default:
		h.log.Warn().Msg("websocket event queue full; event dropped")
	}
}

func (h *Hub) broadcast(m wsMessage) {
	b, err := json.Marshal(m)
	if err != nil {
		h.log.Error().Err(err).Str("type", m.Type).Msg("encode websocket message")
		return
	}
	err = h.m.BroadcastFilter(b, func(sess *melody.Session) bool {
		if _, dropped := sess.Get(keyDropped); dropped {
			return false
		}
		if m.GroupID == "" {
			return true
		}
		subs, _ := sess.Get(keySubs)
		set, _ := subs.(map[string]bool)
		return set[m.GroupID]
	})
	if err != nil && !errors.Is(err, melody.ErrClosed) {
		h.log.Warn().Err(err).Msg("websocket broadcast")
	}
}

// JobCreated counts the new job (enqueued from any source, or an
// auto-requeue copy) and sends job_state to its group's subscribers.
func (h *Hub) JobCreated(j core.Job) {
	h.metrics.JobCreated(j.GroupID)
	h.enqueue(func(context.Context) {
		h.broadcast(wsMessage{Type: MsgJobState, GroupID: j.GroupID, Data: h.jobView(j)})
	})
}

// JobChanged sends job_state to the job's group subscribers. A job reaching
// a terminal status is counted here: the store's conditional transition
// makes that event happen exactly once per job.
func (h *Hub) JobChanged(j core.Job) {
	if j.Status.Terminal() {
		h.metrics.JobFinished(j.GroupID, string(j.Status))
	}
	h.enqueue(func(context.Context) {
		h.observeWait(j)
		h.broadcast(wsMessage{Type: MsgJobState, GroupID: j.GroupID, Data: h.jobView(j)})
	})
}

// BroadcastJob sends job_state without counting anything: for a change
// another replica made and already counted (it arrives over the replica
// bus), so Prometheus, summing over replicas, sees each job once.
func (h *Hub) BroadcastJob(j core.Job) {
	h.enqueue(func(context.Context) {
		h.broadcast(wsMessage{Type: MsgJobState, GroupID: j.GroupID, Data: h.jobView(j)})
	})
}

// observeWait records enqueued → started once per job: a running job is
// announced again on other changes (a cancel request, settings), so the
// jobs already measured are remembered until they end. Runs on the event
// goroutine only.
func (h *Hub) observeWait(j core.Job) {
	if j.StartedAt != nil {
		if _, seen := h.waited[j.ID]; !seen {
			h.waited[j.ID] = struct{}{}
			h.metrics.JobWait(j.StartedAt.Sub(j.CreatedAt))
		}
	}
	if j.Status.Terminal() {
		delete(h.waited, j.ID)
		h.observeRun(j)
	}
}

// QueueChanged sends queue_update with the group's counts per status and
// refreshes the queue-size metric, which changes exactly here. The counts
// come from one scan of every live job, so changes arriving together (a
// bulk enqueue, a busy dispatcher) share one scan: see refreshQueues.
func (h *Hub) QueueChanged(groupID string) {
	h.dirtyGroups.add(groupID)
	h.queues.request()
}

// GroupChanged sends group_update with the group as stored now.
func (h *Hub) GroupChanged(groupID string) {
	h.enqueue(func(ctx context.Context) {
		var data any = map[string]string{"id": groupID}
		if h.store != nil {
			if g, err := h.store.GetGroup(ctx, groupID); err == nil {
				data = g
			}
		}
		h.broadcast(wsMessage{Type: MsgGroupUpdate, GroupID: groupID, Data: data})
	})
}

// RunnerChanged sends runner_status to every client at once and has the
// fleet gauges, which change exactly when a runner does, refreshed: those
// read every runner, so a burst of changes shares one read.
func (h *Hub) RunnerChanged(r core.Runner) {
	if r.Labels == nil {
		r.Labels = []string{}
	}
	h.runnerGauges.request()
	h.enqueue(func(context.Context) {
		h.broadcast(wsMessage{Type: MsgRunnerStatus, Data: r})
	})
}

// SystemStatus sends system_status (e.g. leader change, GitHub reachable)
// to every client.
func (h *Hub) SystemStatus(status any) {
	h.enqueue(func(context.Context) { h.broadcast(wsMessage{Type: MsgSystemStatus, Data: status}) })
}
