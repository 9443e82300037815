package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// GitHub's payloads are almost all far below a megabyte (a workflow_job is a
// few tens of kilobytes); only rare ones approach the 25 MB cap. Bodies are
// read under a budget of bytes in flight, in two lanes, so that unsigned
// maximum-size bodies can neither take the process's memory nor starve the
// small deliveries that carry runner state.
const (
	smallBody      = 1 << 20
	smallLaneBytes = 16 << 20
	// Two maximum-size bodies at once. A rejected body is garbage until the
	// next collection, which the runtime starts at about twice the live
	// heap, so the heap's peak is about twice what is in flight: 50
	// concurrent unsigned 25 MB bodies add about 110 MiB, not 1.2 GB.
	largeLaneBytes = 2*maxPayload + 2<<20
	// laneWait is how long a body waits for room before it is refused with
	// 503; GitHub's own timeout is 10 s, and the redelivery sweeper repairs
	// a refused genuine delivery.
	laneWait = 3 * time.Second
)

// inflight bounds the memory that webhook bodies hold while they are read
// and verified.
type inflight struct {
	small, large *semaphore.Weighted
}

func newInflight(small, large int64) *inflight {
	return &inflight{small: semaphore.NewWeighted(small), large: semaphore.NewWeighted(large)}
}

var errBusy = errors.New("too many webhook bytes in flight; retry later")

// read reads the body into a buffer sized once, computing its HMAC-SHA256
// as it goes, and returns it only if it matches sig ("sha256=<hex>"). The
// bytes are reserved before reading (the whole 25 MB when the sender gave no
// length) and stay reserved until the caller calls release, after the
// delivery was applied. status is the HTTP status for err; release is
// always safe to call.
func (f *inflight) read(ctx context.Context, body io.Reader, length int64, secret []byte, sig string) (_ []byte, release func(), status int, _ error) {
	release = func() {}
	want, ok := strings.CutPrefix(sig, "sha256=")
	wantMAC, err := hex.DecodeString(want)
	if !ok || err != nil || len(wantMAC) != sha256.Size {
		return nil, release, http.StatusUnauthorized, errors.New("malformed X-Hub-Signature-256")
	}
	reserve, lane := int64(maxPayload), f.large
	if length >= 0 {
		reserve = length
	}
	if reserve <= smallBody {
		lane = f.small
	}
	waitCtx, cancel := context.WithTimeout(ctx, laneWait)
	defer cancel()
	weight := max(reserve, 1)
	if err := lane.Acquire(waitCtx, weight); err != nil {
		return nil, release, http.StatusServiceUnavailable, errBusy
	}
	var once sync.Once
	release = func() { once.Do(func() { lane.Release(weight) }) }
	fail := func(status int, err error) ([]byte, func(), int, error) {
		release()
		return nil, func() {}, status, err
	}

	mac := hmac.New(sha256.New, secret)
	// A known length is allocated once (it is reserved and at most 25 MB);
	// doubling growth would allocate about twice the body in garbage. An
	// unknown length starts small and grows only as bytes really arrive.
	size := reserve
	if length < 0 {
		size = smallBody
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+1))
	// One byte past what was announced (or the cap) tells a lying
	// Content-Length or an oversized chunked body apart.
	n, err := io.Copy(io.MultiWriter(buf, mac), io.LimitReader(body, reserve+1))
	switch {
	case err != nil:
		return fail(http.StatusBadRequest, fmt.Errorf("read body: %w", err))
	case n > reserve && length < 0:
		return fail(http.StatusRequestEntityTooLarge, errors.New("payload exceeds 25 MB"))
	case n > reserve:
		return fail(http.StatusBadRequest, errors.New("body longer than its Content-Length"))
	}
	// hmac.Equal compares in constant time.
	if !hmac.Equal(mac.Sum(nil), wantMAC) {
		return fail(http.StatusUnauthorized, errors.New("signature check failed"))
	}
	return buf.Bytes(), release, http.StatusOK, nil
}
