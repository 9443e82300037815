package handlers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

const (
	secret = "test-webhook-secret"
	bot    = "dispatchoor-test[bot]"
)

// fakes record what the handlers asked of the world outside the store.
type fakes struct {
	mu        sync.Mutex
	wakes     []string
	scheduled []scheduled
	changed   []core.Job
	delivered map[string]int // "event/outcome" -> count
	mismatch  [][2]string
	runners   []core.Runner
	forgets   int // installation cache emptied
}

func (f *fakes) ForgetInstallations() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgets++
}

func (f *fakes) forgetCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forgets
}

func (f *fakes) RunnerChanged(r core.Runner) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runners = append(f.runners, r)
}

// runnerChanges returns and forgets the announced runner changes.
func (f *fakes) runnerChanges() []core.Runner {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.runners
	f.runners = nil
	return out
}

type scheduled struct {
	Scope string
	Delay time.Duration
}

func (f *fakes) Wake(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wakes = append(f.wakes, reason)
}

func (f *fakes) ScheduleScope(scope string, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scheduled = append(f.scheduled, scheduled{scope, delay})
}

func (f *fakes) JobChanged(j core.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changed = append(f.changed, j)
}

// The queue's other announcements are not the handlers' concern here.
func (f *fakes) JobCreated(core.Job) {}
func (f *fakes) QueueChanged(string) {}
func (f *fakes) GroupChanged(string) {}

func (f *fakes) Delivery(event, outcome string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.delivered == nil {
		f.delivered = map[string]int{}
	}
	f.delivered[event+"/"+outcome]++
}

func (f *fakes) LabelMismatch(group, template string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mismatch = append(f.mismatch, [2]string{group, template})
}

func (f *fakes) schedules() []scheduled {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.scheduled)
}

func (f *fakes) wakeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.wakes)
}

func (f *fakes) deliveries(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delivered[key]
}

// harness is the real endpoint on a real store, with fakes around it.
type harness struct {
	t      testing.TB
	s      *store.Store
	q      *queue.Service
	h      http.Handler
	f      *fakes
	clock  *clock
	botErr error
	botFn  func(context.Context) (string, error)
	// failFinish makes the next n finishes fail after doing their work,
	// inside the delivery's transaction.
	failFinish atomic.Int32
	// emitted counts outcomes announced after a commit.
	emitted atomic.Int32
	relists []time.Duration
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, s *store.Store) *harness {
	t.Helper()
	h := &harness{t: t, s: s, f: &fakes{}, clock: &clock{t: t0}}
	s.SetClock(h.clock.now)
	// The queue announces every change of our jobs, the handlers' too.
	q, err := queue.New(queue.Options{Store: s, Logger: zerolog.Nop(), Events: h.f})
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
	h.q = q
	h.relists = []time.Duration{3 * time.Second, 15 * time.Second}
	h.h, err = handlers.New(handlers.Options{
		Store: s, Queue: finisher{h.q, h}, Logger: zerolog.Nop(), WebhookSecret: secret,
		Waker: h.f, Reconciler: h.f, Runners: h.f, Metrics: h.f, Installations: h.f,
		BotLogin: func(ctx context.Context) (string, error) {
			if h.botFn != nil {
				return h.botFn(ctx)
			}
			if h.botErr != nil {
				return "", h.botErr
			}
			return bot, nil
		},
		AnomalyDelay: 2 * time.Second, RelistDelays: h.relists,
	})
	if err != nil {
		t.Fatalf("handlers.New: %v", err)
	}
	return h
}

// finisher is the queue service with FinishTx and Emit instrumented.
type finisher struct {
	*queue.Service
	h *harness
}

// FinishTx finishes on the delivery's transaction, failing as told after the
// real work was done, so a test sees that work rolled back.
func (f finisher) FinishTx(ctx context.Context, q *store.Q, jobID int64, conclusion, runnerName string) (queue.Outcome, error) {
	out, err := f.h.q.FinishTx(ctx, q, jobID, conclusion, runnerName)
	if err != nil {
		return out, err
	}
	if f.h.failFinish.Add(-1) >= 0 {
		return queue.Outcome{}, errors.New("injected: failure after the finish, inside the delivery's transaction")
	}
	f.h.failFinish.Store(0)
	return out, nil
}

func (f finisher) Emit(out queue.Outcome) {
	f.h.emitted.Add(1)
	f.h.q.Emit(out)
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type reply struct {
	Status int
	Body   map[string]string
}

// postAs sends one delivery with explicit headers.
func (h *harness) postAs(event, delivery string, body []byte, header map[string]string) reply {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, handlers.Route, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	if delivery != "" {
		req.Header.Set("X-GitHub-Delivery", delivery)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	var out reply
	out.Status = rec.Code
	if err := json.Unmarshal(rec.Body.Bytes(), &out.Body); err != nil {
		h.t.Fatalf("%s %s: reply %d is not JSON: %q", event, delivery, rec.Code, rec.Body.String())
	}
	return out
}

// post signs and sends a payload under a fresh delivery id and fails the
// test unless it was applied.
func (h *harness) post(event string, payload any) reply {
	h.t.Helper()
	r := h.postID(event, fmt.Sprintf("d-%d", deliverySeq.Add(1)), payload)
	if r.Status != http.StatusOK || r.Body["outcome"] != "applied" {
		h.t.Fatalf("%s: got %d %v, want 200 applied", event, r.Status, r.Body)
	}
	return r
}

func (h *harness) postID(event, delivery string, payload any) reply {
	h.t.Helper()
	body, ok := payload.([]byte)
	if !ok {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			h.t.Fatalf("marshal: %v", err)
		}
	}
	return h.postAs(event, delivery, body, map[string]string{"X-Hub-Signature-256": sign(secret, body)})
}

func (h *harness) deliveriesStored() int {
	h.t.Helper()
	var n int
	if err := h.s.DB().Get(&n, "SELECT COUNT(*) FROM webhook_deliveries"); err != nil {
		h.t.Fatalf("count deliveries: %v", err)
	}
	return n
}

var ctx = context.Background()

// deliverySeq numbers deliveries across harnesses that share a store.
var deliverySeq atomic.Int64

// Test world: group alpha (runners labelled self-hosted+alpha in org:acme),
// template a1 (acme/infra sync.yml on main).
var (
	groupAlpha = core.Group{ID: "alpha", Name: "Alpha", RunnerLabels: []string{"self-hosted", "alpha"}, RunnerScope: "org:acme", Enabled: true}
	tmplA1     = core.Template{ID: "a1", GroupID: "alpha", Name: "A one", Owner: "acme", Repo: "infra", WorkflowID: "sync.yml", Ref: "main"}
)

func (h *harness) seedGroups() {
	h.t.Helper()
	if _, err := h.s.SyncConfig(ctx, []core.Group{groupAlpha}, []core.Template{tmplA1}); err != nil {
		h.t.Fatalf("sync config: %v", err)
	}
}

// job puts a job of template a1 into status to (via the real transitions);
// runID is attached at triggered when non-zero.
func (h *harness) job(to core.JobStatus, runID int64, autoRequeue bool) core.Job {
	h.t.Helper()
	j, err := h.s.InsertJob(ctx, core.Job{GroupID: "alpha", TemplateID: "a1", Name: "A one", Owner: "acme", Repo: "infra",
		WorkflowID: "sync.yml", Ref: "main", Source: core.JobSourceAPI, CreatedBy: "test", AutoRequeue: autoRequeue},
		store.Placement{Where: store.Bottom})
	if err != nil {
		h.t.Fatalf("insert job: %v", err)
	}
	steps := []core.JobStatus{core.StatusDispatching, core.StatusTriggered, core.StatusRunning}
	for _, st := range steps {
		if j.Status == to {
			break
		}
		req := store.TransitionRequest{JobID: j.ID, From: j.Status, To: st}
		switch st {
		case core.StatusDispatching:
			req.NewAttemptID = fmt.Sprintf("attempt-%d", j.ID)
		case core.StatusTriggered:
			req.RunID = runID
			if runID != 0 {
				req.RunURL = fmt.Sprintf("https://github.com/acme/infra/actions/runs/%d", runID)
			}
		}
		if j, err = h.s.Transition(ctx, req); err != nil {
			h.t.Fatalf("job to %s: %v", st, err)
		}
	}
	if j.Status != to {
		h.t.Fatalf("job is %s, want %s", j.Status, to)
	}
	return j
}

func (h *harness) getJob(id int64) core.Job {
	h.t.Helper()
	j, err := h.s.GetJob(ctx, id)
	if err != nil {
		h.t.Fatalf("get job %d: %v", id, err)
	}
	return j
}

func (h *harness) runner(id int64) store.RunnerRecord {
	h.t.Helper()
	r, err := h.s.GetRunner(ctx, id)
	if err != nil {
		h.t.Fatalf("get runner %d: %v", id, err)
	}
	return r
}

// addRunner lists one runner of org:acme as the reconciler would.
func (h *harness) addRunner(id int64, ephemeral bool, labels ...string) {
	h.t.Helper()
	rs, err := h.s.ListRunners(ctx, store.RunnerFilter{Scope: "org:acme"})
	if err != nil {
		h.t.Fatalf("list runners: %v", err)
	}
	listing := store.CoreRunners(rs)
	listing = append(listing, core.Runner{ID: id, Name: fmt.Sprintf("runner-%d", id), Scope: "org:acme",
		Labels: labels, Status: core.RunnerOnline, Ephemeral: ephemeral})
	if _, err := h.s.ReplaceScopeRunners(ctx, store.ScopeListing{Scope: "org:acme", Runners: listing}); err != nil {
		h.t.Fatalf("list runner %d: %v", id, err)
	}
}
