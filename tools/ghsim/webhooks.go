package ghsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Delivery is one webhook delivery, as GitHub lists it under
// /app/hook/deliveries, plus what the simulator did with it.
type Delivery struct {
	ID             int64
	GUID           string // X-GitHub-Delivery; a redelivery keeps it
	AppID          int64
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
	Payload        []byte
	RequestHeader  http.Header
	Redelivery     bool
	Dropped        bool // a fault: logged, never sent
	Duplicated     bool // a fault: sent twice
	Delayed        bool // a fault: sent late
	Reordered      bool // a fault: sent after the delivery queued behind it
	Delivered      bool // the receiver answered 2xx
	StatusCode     int  // 0 when never answered
	Status         string
	ResponseBody   string
	DeliveredAt    time.Time
	Duration       time.Duration
}

type hookItem struct {
	d       *Delivery
	reorder bool
}

// hookQueue sends deliveries one at a time, in order, so that the order the
// engine emits events in is the order they arrive in unless a fault says
// otherwise. GitHub does not promise order; tests that need disorder ask for
// it with Faults.
type hookQueue struct {
	s      *Sim
	client *http.Client
	mu     sync.Mutex
	items  []hookItem
	busy   int // items popped and not yet fully sent (duplicates included)
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newHookQueue(s *Sim) *hookQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &hookQueue{s: s, client: &http.Client{Timeout: 10 * time.Second}, wake: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go q.run()
	return q
}

func (q *hookQueue) close() {
	q.cancel()
	<-q.done
}

func (q *hookQueue) push(it hookItem) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop waits up to wait for an item (forever when wait is 0).
func (q *hookQueue) pop(wait time.Duration) (hookItem, bool) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items = slices.Delete(q.items, 0, 1)
			q.busy++
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-q.ctx.Done():
			return hookItem{}, false
		case <-timeout:
			return hookItem{}, false
		case <-q.wake:
		}
	}
}

func (q *hookQueue) run() {
	defer close(q.done)
	for {
		it, ok := q.pop(0)
		if !ok {
			return
		}
		if it.reorder {
			// Hold it back until the next delivery has gone out (or a
			// second has passed with nothing else to send).
			if next, ok := q.pop(time.Second); ok {
				q.send(next.d)
				q.doneOne()
			}
		}
		q.send(it.d)
		q.doneOne()
		if q.ctx.Err() != nil {
			return
		}
	}
}

func (q *hookQueue) doneOne() {
	q.mu.Lock()
	q.busy--
	q.mu.Unlock()
}

// idle reports whether nothing is queued or being sent.
func (q *hookQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0 && q.busy == 0
}

func (q *hookQueue) send(d *Delivery) {
	s := q.s
	s.mu.Lock()
	a := s.apps[d.AppID]
	url, secret := a.WebhookURL, a.WebhookSecret
	dropped, dup := d.Dropped, d.Duplicated
	s.mu.Unlock()
	if dropped {
		s.log.Debug().Str("delivery", d.GUID).Str("event", d.Event).Msg("webhook dropped (fault)")
		return
	}
	for range 1 + btoi(dup) {
		q.post(d, url, secret)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (q *hookQueue) post(d *Delivery, url, secret string) {
	s := q.s
	hdr := webhookHeaders(d, secret)
	start := time.Now()
	status, code, respBody := "URL not set", 0, ""
	if url != "" {
		req, err := http.NewRequestWithContext(q.ctx, http.MethodPost, url, bytes.NewReader(d.Payload))
		if err == nil {
			req.Header = hdr.Clone()
			resp, err := q.client.Do(req)
			if err != nil {
				status = "Connection error: " + err.Error()
			} else {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
				code, respBody = resp.StatusCode, string(b)
				status = "OK"
				if code < 200 || code > 299 {
					status = fmt.Sprintf("Invalid HTTP Response: %d", code)
				}
			}
		}
	}
	s.mu.Lock()
	d.RequestHeader, d.StatusCode, d.Status, d.ResponseBody = hdr, code, status, respBody
	d.Delivered = code >= 200 && code <= 299
	d.DeliveredAt, d.Duration = s.clock.Now(), time.Since(start)
	s.mu.Unlock()
	s.log.Debug().Str("delivery", d.GUID).Str("event", d.Event).Str("action", d.Action).
		Int("status", code).Msg("webhook sent")
}

// webhookHeaders are the headers GitHub sends with a delivery.
func webhookHeaders(d *Delivery, secret string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/ghsim")
	h.Set("X-GitHub-Event", d.Event)
	h.Set("X-GitHub-Delivery", d.GUID)
	h.Set("X-GitHub-Hook-ID", fmt.Sprint(hookID(d.AppID)))
	h.Set("X-GitHub-Hook-Installation-Target-ID", fmt.Sprint(d.AppID))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	if secret != "" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(d.Payload)
		h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
		m1 := hmac.New(sha1.New, []byte(secret))
		m1.Write(d.Payload)
		h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m1.Sum(nil)))
	}
	return h
}

func hookID(appID int64) int64 { return 400_000_000 + appID }

// guid draws a v4-shaped UUID from the seeded source; callers hold s.mu.
func (s *Sim) guid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// emit queues a delivery of event to the installation's App, adding the
// installation, repository, organization and sender blocks GitHub includes.
// Callers hold s.mu.
func (s *Sim) emit(event, action string, installationID int64, repo *Repo, sender string, body obj) {
	in := s.installations[installationID]
	appID := s.primaryApp
	if in != nil {
		appID = in.AppID
	}
	if action != "" {
		body["action"] = action
	}
	if installationID != 0 {
		body["installation"] = s.installationLiteJSON(installationID)
	}
	var repoID int64
	if repo != nil {
		body["repository"] = s.repoJSON(repo)
		repoID = repo.ID
		if o := s.orgs[strings.ToLower(repo.Owner)]; o != nil {
			body["organization"] = s.orgJSON(o)
		}
	}
	if sender != "" {
		body["sender"] = s.accountJSON(sender)
	}
	if d := s.newDelivery(event, action, appID, installationID, repoID, body); d != nil {
		s.enqueue(d)
	}
}

func (s *Sim) newDelivery(event, action string, appID, installationID, repoID int64, body obj) *Delivery {
	payload, err := json.Marshal(body)
	if err != nil {
		s.log.Error().Err(err).Str("event", event).Msg("marshal webhook payload")
		return nil
	}
	return &Delivery{ID: s.newID(), GUID: s.guid(), AppID: appID, Event: event, Action: action,
		InstallationID: installationID, RepositoryID: repoID, Payload: payload}
}

// enqueue applies webhook faults and hands d to the sender; callers hold s.mu.
func (s *Sim) enqueue(d *Delivery) {
	f := s.faults
	d.Dropped = s.chance(f.WebhookDrop)
	d.Duplicated = s.chance(f.WebhookDuplicate)
	d.Delayed = s.chance(f.WebhookDelay)
	d.Reordered = s.chance(f.WebhookReorder)
	s.deliveries = append(s.deliveries, d)
	if d.Delayed {
		by := f.WebhookDelayBy
		if by <= 0 {
			by = 5 * time.Second
		}
		s.after(by, func() { s.hooks.push(hookItem{d: d}) })
		return
	}
	s.hooks.push(hookItem{d: d, reorder: d.Reordered})
}

// Deliveries returns a snapshot of every webhook delivery, oldest first.
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		c := *d
		c.RequestHeader = d.RequestHeader.Clone()
		out = append(out, c)
	}
	return out
}

// WaitIdle waits until every queued delivery has been sent, duplicates
// included (or ctx ends); delayed deliveries not yet due are not waited for.
func (s *Sim) WaitIdle(ctx context.Context) error {
	for !s.hooks.idle() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("ghsim: wait for webhook sender: %w", ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}
