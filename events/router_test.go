package events_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/events"
	"github.com/ethpandaops/dispatchoor/notify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is every kind of listener at once, writing what it heard in
// order.
type recorder struct {
	mu  sync.Mutex
	got []string
	ch  chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 1024)} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
	r.ch <- s
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// next waits for the next line heard.
func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r.ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("nothing heard within 5s")
		return ""
	}
}

func (r *recorder) JobCreated(j core.Job) { r.add(fmt.Sprintf("dash created %d", j.ID)) }
func (r *recorder) JobChanged(j core.Job) { r.add(fmt.Sprintf("dash changed %d %s", j.ID, j.Status)) }
func (r *recorder) BroadcastJob(j core.Job) {
	r.add(fmt.Sprintf("dash broadcast %d %s", j.ID, j.Status))
}
func (r *recorder) QueueChanged(g string) { r.add("dash queue " + g) }
func (r *recorder) GroupChanged(g string) { r.add("dash group " + g) }
func (r *recorder) RunnerChanged(rn core.Runner) {
	r.add(fmt.Sprintf("dash runner %d %s", rn.ID, rn.Status))
}
func (r *recorder) Wake(reason string) { r.add("wake " + reason) }
func (r *recorder) ScheduleScope(s string, d time.Duration) {
	r.add(fmt.Sprintf("scope %s %s", s, d))
}

// listener is a JobListener alone, to tell its calls from the dashboard's.
type listener struct{ r *recorder }

func (l listener) JobChanged(j core.Job) {
	l.r.add(fmt.Sprintf("listener changed %d %s", j.ID, j.Status))
}

// jobsFrom serves GetJob from a map.
type jobsFrom map[int64]core.Job

func (m jobsFrom) GetJob(_ context.Context, id int64) (core.Job, error) {
	j, ok := m[id]
	if !ok {
		return core.Job{}, errors.New("no such job")
	}
	return j, nil
}

func newRouter(t *testing.T, opts events.Options) *events.Router {
	t.Helper()
	if opts.Bus == nil {
		opts.Bus = notify.NewLocal()
	}
	if opts.Jobs == nil {
		opts.Jobs = jobsFrom{}
	}
	opts.Logger = zerolog.Nop()
	r, err := events.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestNewRefusesMissingParts(t *testing.T) {
	for name, opts := range map[string]events.Options{
		"no bus":        {Jobs: jobsFrom{}},
		"no job reader": {Bus: notify.NewLocal()},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := events.New(opts); err == nil {
				t.Fatal("New accepted options without a required part")
			}
		})
	}
}

func TestLocalDeliveryIsSynchronousAndInOrder(t *testing.T) {
	r := newRouter(t, events.Options{})
	rec := newRecorder()
	r.SubscribeDashboard(rec)
	r.SubscribeJobs(listener{rec})
	r.SubscribeWaker(rec)

	r.JobCreated(core.Job{ID: 1, GroupID: "g", Status: core.StatusPending})
	r.JobChanged(core.Job{ID: 1, GroupID: "g", Status: core.StatusDispatching})
	r.JobChanged(core.Job{ID: 1, GroupID: "g", Status: core.StatusCompleted})
	r.QueueChanged("g")
	r.GroupChanged("g")
	r.RunnerChanged(core.Runner{ID: 7, Status: core.RunnerOnline})
	r.ScheduleScope("org:acme", time.Second)
	r.Wake("runner idle")

	want := []string{
		"dash created 1", "wake job created",
		// A claim spends capacity: no wake-up.
		"dash changed 1 dispatching", "listener changed 1 dispatching",
		"dash changed 1 completed", "listener changed 1 completed", "wake job changed",
		"dash queue g", "wake queue changed",
		"dash group g", "wake group changed",
		"dash runner 7 online",
		"scope org:acme 1s",
		"wake runner idle",
	}
	// Every call returned after its listeners ran: nothing is pending.
	if got := rec.lines(); !slices.Equal(got, want) {
		t.Fatalf("heard\n%q\nwant\n%q", got, want)
	}
}

// blockingBus is a bus whose Publish blocks until released, like a
// PostgreSQL NOTIFY stuck behind a dead connection.
type blockingBus struct {
	*notify.Local
	entered chan notify.Event
	release chan struct{}
}

func (b *blockingBus) Publish(ctx context.Context, ev notify.Event) error {
	b.entered <- ev
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type dropCounter struct {
	mu    sync.Mutex
	kinds map[string]int
}

func (d *dropCounter) ReplicaEventDropped(kind string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.kinds[kind]++
}

func TestFullPublishQueueDropsInsteadOfBlocking(t *testing.T) {
	const size = 8
	bus := &blockingBus{Local: notify.NewLocal(), entered: make(chan notify.Event, 100), release: make(chan struct{})}
	drops := &dropCounter{kinds: map[string]int{}}
	r := newRouter(t, events.Options{Bus: bus, QueueSize: size, Metrics: drops, PublishTimeout: time.Minute, DrainTimeout: 50 * time.Millisecond})
	rec := newRecorder()
	r.SubscribeDashboard(rec)

	// The first event is taken by the publishing goroutine, which then
	// blocks in the bus: from here on the queue fills.
	r.QueueChanged("first")
	<-bus.entered
	const extra = 5
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range size + extra {
			r.JobChanged(core.Job{ID: int64(i + 1), GroupID: "g", Status: core.StatusRunning})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("JobChanged blocked on a bus whose Publish blocks")
	}
	if got := r.Dropped(); got != extra {
		t.Fatalf("dropped %d events, want %d (queue of %d full)", got, extra, size)
	}
	drops.mu.Lock()
	if drops.kinds[notify.KindJob] != extra || len(drops.kinds) != 1 {
		t.Fatalf("drop metric by kind = %v, want %d of %q", drops.kinds, extra, notify.KindJob)
	}
	drops.mu.Unlock()
	// Local listeners heard every event even though none was published.
	if n := len(rec.lines()); n != 1+size+extra {
		t.Fatalf("dashboard heard %d events, want %d", n, 1+size+extra)
	}
	// Close gives up on the stuck bus after its drain timeout.
	closed := make(chan struct{})
	go func() { _ = r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with the bus stuck")
	}
}

func TestQueuedEventsArePublishedInOrderAndDrainedOnClose(t *testing.T) {
	bus := &blockingBus{Local: notify.NewLocal(), entered: make(chan notify.Event, 100), release: make(chan struct{})}
	r := newRouter(t, events.Options{Bus: bus, QueueSize: 16})
	for _, g := range []string{"a", "b", "c"} {
		r.QueueChanged(g)
	}
	closed := make(chan struct{})
	go func() { _ = r.Close(); close(closed) }()
	for _, want := range []string{"a", "b", "c"} {
		ev := <-bus.entered
		if ev.Kind != notify.KindQueue || ev.GroupID != want {
			t.Fatalf("published %s %q, want queue %q", ev.Kind, ev.GroupID, want)
		}
		bus.release <- struct{}{}
	}
	<-closed
	r.QueueChanged("after close") // reaches no replica, and must not panic
	if r.Dropped() != 0 {
		t.Fatalf("dropped %d events with room in the queue", r.Dropped())
	}
}

func TestRemoteEventsAreApplied(t *testing.T) {
	here := notify.NewLocal()
	there := here.Peer()
	t.Cleanup(func() { _ = there.Close() })
	stored := core.Job{ID: 42, GroupID: "g", Status: core.StatusCompleted}
	r := newRouter(t, events.Options{Bus: here, Jobs: jobsFrom{42: stored}})
	rec := newRecorder()
	r.SubscribeDashboard(rec)
	r.SubscribeJobs(listener{rec})
	r.SubscribeWaker(rec)

	// The other replica's router publishes what it announced.
	other := newRouter(t, events.Options{Bus: there})
	cases := []struct {
		name string
		send func()
		want []string
	}{
		{"a job is re-read and shown as stored", func() {
			other.JobChanged(core.Job{ID: 42, GroupID: "g", Status: core.StatusRunning})
		}, []string{"wake replica event: job", "dash broadcast 42 completed", "listener changed 42 completed"}},
		{"a queue change", func() { other.QueueChanged("g") }, []string{"wake replica event: queue", "dash queue g"}},
		{"a group change", func() { other.GroupChanged("g") }, []string{"wake replica event: group", "dash group g"}},
		{"a runner change", func() { other.RunnerChanged(core.Runner{ID: 3, Status: core.RunnerOffline}) },
			[]string{"wake replica event: runner", "dash runner 3 offline"}},
		{"a scope hint", func() { other.ScheduleScope("repo:acme/x", 3*time.Second) },
			[]string{"wake replica event: wake", "scope repo:acme/x 3s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.send()
			for _, want := range c.want {
				if got := rec.next(t); got != want {
					t.Fatalf("heard %q, want %q", got, want)
				}
			}
		})
	}
	t.Run("a job that cannot be re-read is not shown", func(t *testing.T) {
		other.JobChanged(core.Job{ID: 99, GroupID: "g", Status: core.StatusRunning})
		other.QueueChanged("marker")
		for _, want := range []string{"wake replica event: job", "wake replica event: queue", "dash queue marker"} {
			if got := rec.next(t); got != want {
				t.Fatalf("heard %q, want %q", got, want)
			}
		}
	})
}
