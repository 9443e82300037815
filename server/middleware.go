package server

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
)

// statusRecorder remembers what the request log needs. It passes Hijack
// through, which the WebSocket upgrade requires.
type statusRecorder struct {
	http.ResponseWriter
	status int
	route  string
	user   string
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack: the response writer does not support it")
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func recorderFrom(w http.ResponseWriter) *statusRecorder {
	rec, _ := w.(*statusRecorder)
	return rec
}

// logRequests logs one line per request: method, path (never the query
// string, which could carry anything a client pasted), status, duration,
// client address and user. Headers are never logged, so cookies,
// Authorization and CSRF values cannot leak.
func (s *Server) logRequests(next http.Handler) http.Handler {
	log := s.log.With().Str("component", "http").Logger()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		ev := log.Info()
		if rec.status >= 500 {
			ev = log.Warn()
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Dur("duration", time.Since(start)).Str("client", s.clientIP.of(r))
		if rec.user != "" {
			ev = ev.Str("user", rec.user)
		}
		ev.Msg("request")
	})
}

// cors answers only exact configured origins with credentials. A "*" entry
// lets any origin read public responses but never with credentials: a
// wildcard with credentials would hand every website the user's session.
func (s *Server) cors(next http.Handler) http.Handler {
	exact := []string{}
	wildcard := false
	for _, o := range s.cfg.Server.CORSOrigins {
		if o == "*" {
			wildcard = true
			continue
		}
		exact = append(exact, strings.TrimRight(o, "/"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := slices.Contains(exact, origin)
		switch {
		case allowed:
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		case wildcard:
			h.Set("Access-Control-Allow-Origin", "*")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed || wildcard {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
				h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, "+csrfHeader)
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr finds a request's client. X-Forwarded-For is believed only when
// the peer is a trusted proxy, and then only up to the first untrusted hop
// from the right: anything further left the client could have written.
type clientAddr struct {
	trusted []netip.Prefix
}

func (c clientAddr) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

func (c clientAddr) of(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !c.isTrusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !c.isTrusted(client) {
			break
		}
	}
	return client.String()
}

// rateLimiters count requests per client address and minute, per class.
// A fixed window keeps the state to the current minute's clients, so an
// address flood cannot grow memory beyond one window.
type rateLimiters struct {
	now     func() time.Time
	classes map[limitClass]*window
}

type window struct {
	limit  int
	mu     sync.Mutex
	minute int64
	counts map[string]int
}

func newRateLimiters(c config.RateLimits, now func() time.Time) *rateLimiters {
	return &rateLimiters{now: now, classes: map[limitClass]*window{
		limitPublic:        {limit: c.Public.RequestsPerMinute},
		limitAuth:          {limit: c.Auth.RequestsPerMinute},
		limitAuthenticated: {limit: c.Authenticated.RequestsPerMinute},
	}}
}

func (l *rateLimiters) allow(class limitClass, client string, w http.ResponseWriter) error {
	win := l.classes[class]
	if win == nil || win.limit <= 0 {
		return nil
	}
	now := l.now()
	minute := now.Unix() / 60
	win.mu.Lock()
	if win.minute != minute || win.counts == nil {
		win.minute, win.counts = minute, map[string]int{}
	}
	win.counts[client]++
	n := win.counts[client]
	win.mu.Unlock()
	if n <= win.limit {
		return nil
	}
	wait := (minute+1)*60 - now.Unix()
	w.Header().Set("Retry-After", strconv.FormatInt(wait, 10))
	return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited", Msg: fmt.Sprintf("too many requests from this address; retry in %d s", wait)}
}
