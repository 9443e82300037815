package server

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// failureLimit counts, per client address and minute, webhook deliveries
// that failed the signature check, and refuses an address past its limit
// for the rest of the minute. Like the request limits it keeps only the
// current minute, so a flood of addresses cannot grow its memory.
type failureLimit struct {
	limit  int
	now    func() time.Time
	mu     sync.Mutex
	minute int64
	counts map[string]int
}

func (f *failureLimit) current() int64 {
	minute := f.now().Unix() / 60
	if f.minute != minute || f.counts == nil {
		f.minute, f.counts = minute, map[string]int{}
	}
	return minute
}

// check refuses a client that failed limit times this minute.
func (f *failureLimit) check(client string, w http.ResponseWriter) *apiError {
	if f == nil || f.limit <= 0 {
		return nil
	}
	f.mu.Lock()
	minute := f.current()
	n := f.counts[client]
	f.mu.Unlock()
	if n < f.limit {
		return nil
	}
	wait := (minute+1)*60 - f.now().Unix()
	w.Header().Set("Retry-After", strconv.FormatInt(wait, 10))
	return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Msg: fmt.Sprintf("too many webhook deliveries with a bad signature from this address; retry in %d s", wait)}
}

// fail counts one failed signature.
func (f *failureLimit) fail(client string) {
	if f == nil || f.limit <= 0 {
		return
	}
	f.mu.Lock()
	f.current()
	f.counts[client]++
	f.mu.Unlock()
}
