package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// Unsigned senders choose the X-GitHub-Event header, so it must not choose
// metric label values: every refusal before the signature check counts
// under "unverified", and a verified unknown event under "other".
func TestDeliveryLabelsAreAFixedSet(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t))
	body := []byte(`{"zen":"hi","hook_id":1}`)
	for i := range 300 {
		h.postAs(fmt.Sprintf("made-up-%d", i), fmt.Sprintf("u-%d", i), body, map[string]string{"X-Hub-Signature-256": sign("wrong", body)})
	}
	for i := range 20 {
		h.postID(fmt.Sprintf("future_event_%d", i), fmt.Sprintf("v-%d", i), body)
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	want := map[string]int{"unverified/invalid_signature": 300, "other/unhandled": 20}
	if len(h.f.delivered) != len(want) {
		t.Fatalf("label values: %v, want only %v", h.f.delivered, want)
	}
	for k, n := range want {
		if h.f.delivered[k] != n {
			t.Fatalf("%s counted %d, want %d (all: %v)", k, h.f.delivered[k], n, h.f.delivered)
		}
	}
}

// countingReader counts what the server read of a body.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestOversizedBodiesAreRefusedUnread(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t))
	t.Run("a Content-Length over 25 MB is refused before reading", func(t *testing.T) {
		body := &countingReader{r: strings.NewReader("{}")}
		req := httptest.NewRequest(http.MethodPost, handlers.Route, body)
		req.ContentLength = 25<<20 + 1
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", "big-1")
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || body.n.Load() != 0 {
			t.Fatalf("status %d after reading %d bytes", rec.Code, body.n.Load())
		}
	})
	t.Run("a chunked body over 25 MB is cut off", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, handlers.Route, io.LimitReader(zeros{}, 26<<20))
		req.ContentLength = -1
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", "big-2")
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", rec.Code)
		}
	})
	t.Run("a missing signature is refused before reading", func(t *testing.T) {
		body := &countingReader{r: bytes.NewReader(make([]byte, 1<<20))}
		req := httptest.NewRequest(http.MethodPost, handlers.Route, body)
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", "nosig")
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || body.n.Load() != 0 {
			t.Fatalf("status %d after reading %d bytes", rec.Code, body.n.Load())
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Fifty concurrent unsigned maximum-size bodies must not take the
// process's memory: bodies are read under a budget of bytes in flight, so
// the heap grows by far less than the 1.2 GB they weigh together.
func TestConcurrentUnsignedMaximumBodiesStayWithinMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1.2 GB over loopback")
	}
	h := newHarness(t, storetest.SQLite(t))
	srv := httptest.NewServer(h.h)
	t.Cleanup(srv.Close)

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})

	const senders, size = 50, 25 << 20
	statuses := make(chan int, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+handlers.Route, io.LimitReader(zeros{}, size))
			req.ContentLength = size
			req.Header.Set("X-GitHub-Event", "workflow_job")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("flood-%d", i))
			req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 32))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0 // the server may close a connection it will not read
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	close(statuses)
	for s := range statuses {
		if s == http.StatusOK || s == http.StatusAccepted {
			t.Fatalf("an unsigned body was accepted (%d)", s)
		}
	}
	grew := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("heap grew by %d MiB at most", grew>>20)
	if grew > 150<<20 {
		t.Fatalf("heap grew by %d MiB under 50 unsigned 25 MB bodies; budget 150 MiB", grew>>20)
	}
}
