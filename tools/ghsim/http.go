package ghsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const docsBase = "https://docs.github.com/rest"

// authKind says which credential a route wants.
type authKind int

const (
	authNone         authKind = iota
	authAppJWT                // an App JWT (Bearer)
	authInstallation          // an installation access token
	authUser                  // an OAuth user-to-server token
)

// call is one REST request being served.
type call struct {
	s   *Sim
	w   http.ResponseWriter
	r   *http.Request
	app *app          // authAppJWT
	tok *token        // authInstallation / authUser
	ins *Installation // authInstallation
	rec *recorder
}

type route struct {
	method, pattern string
	auth            authKind
	h               func(c *call)
}

// Handler serves the REST API under /api/v3/ and the web routes (OAuth,
// App manifest form) at the root.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.restRoutes() {
		mux.Handle(rt.method+" /api/v3"+rt.pattern, s.serveREST(rt))
	}
	mux.HandleFunc("/api/v3/", func(w http.ResponseWriter, r *http.Request) {
		s.serveREST(route{h: func(c *call) { c.fail(http.StatusNotFound, "Not Found", "") }}).ServeHTTP(w, r)
	})
	s.webRoutes(mux)
	return mux
}

// recorder captures what a handler wrote, for the request log and ETags.
type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (s *Sim) serveREST(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{header: http.Header{}}
		c := &call{s: s, w: rec, r: r, rec: rec}
		reqID := s.requestID()
		rec.header.Set("X-GitHub-Request-Id", reqID)
		rec.header.Set("X-GitHub-Media-Type", "github.v3; format=json")
		if s.opts.GHES319 {
			rec.header.Set("X-GitHub-Enterprise-Version", "3.19.0")
		}
		var reqBody []byte
		if r.Body != nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20))
			reqBody = buf.Bytes()
			r.Body = readCloser{bytes.NewReader(reqBody)}
		}

		if !s.injectFault(c, reqID) && c.authenticate(rt.auth) {
			if release, retryAfter, ok := s.admitSecondary(c, rt); ok {
				rt.h(c)
				release()
			} else {
				c.secondaryRefusal(retryAfter)
			}
		}
		c.rateHeaders()
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if r.Method == http.MethodGet && rec.status == http.StatusOK {
			sum := sha256.Sum256(rec.body.Bytes())
			etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
			rec.header.Set("ETag", etag)
			if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
				rec.status = http.StatusNotModified
				rec.body.Reset()
			}
		}
		s.record(c, reqBody)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// admitSecondary applies the secondary limits to installation requests:
// GitHub counts them per installation (an App's JWT requests and OAuth
// user requests are outside what dispatchoor can exceed).
func (s *Sim) admitSecondary(c *call, rt route) (func(), int, bool) {
	if c.ins == nil {
		return func() {}, 0, true
	}
	return s.secondary.admit(c.ins.ID, c.r.Method, rt.method+" "+rt.pattern, strings.TrimPrefix(c.r.URL.Path, "/api/v3"))
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func (s *Sim) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%04X:%04X:%06X:%06X:%08X", s.rng.Uint32()&0xffff, s.rng.Uint32()&0xffff,
		s.rng.Uint32()&0xffffff, s.rng.Uint32()&0xffffff, s.rng.Uint32())
}

// rateHeaders sends GitHub's primary rate-limit headers, counted per
// credential in windows of a wall-clock hour that start afresh at the
// announced reset. Unauthenticated callers get GitHub's 60/hour.
func (c *call) rateHeaders() {
	if c.rec.header.Get("X-RateLimit-Limit") != "" {
		return
	}
	key, limit := "ip:"+c.r.RemoteAddr, 60
	switch {
	case c.ins != nil:
		key, limit = fmt.Sprintf("installation:%d", c.ins.ID), c.s.opts.RateLimit
	case c.tok != nil:
		key, limit = "user:"+c.tok.User, c.s.opts.RateLimit
	case c.app != nil:
		key, limit = fmt.Sprintf("app:%d", c.app.ID), c.s.opts.RateLimit
	}
	window := time.Now().Truncate(time.Hour)
	c.s.mu.Lock()
	if !c.s.rateWindow.Equal(window) {
		c.s.rateWindow = window
		clear(c.s.rateUsed)
	}
	c.s.rateUsed[key]++
	used := c.s.rateUsed[key]
	c.s.mu.Unlock()
	reset := window.Add(time.Hour).Unix()
	h := c.rec.header
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set("X-RateLimit-Resource", "core")
}

// json writes v with status.
func (c *call) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.w.WriteHeader(status)
	_ = json.NewEncoder(c.w).Encode(v)
}

// noContent writes an empty response.
func (c *call) noContent(status int) { c.w.WriteHeader(status) }

// fail writes GitHub's error body. doc is the documentation path (under
// docs.github.com/rest) or empty for the generic REST docs link.
func (c *call) fail(status int, msg, doc string) {
	c.json(status, errorBody(status, msg, doc))
}

func errorBody(status int, msg, doc string) map[string]any {
	return map[string]any{
		"message":           msg,
		"documentation_url": docsBase + doc,
		"status":            strconv.Itoa(status),
	}
}

// decode reads a JSON request body, answering 400 like GitHub when it is
// not JSON.
func (c *call) decode(v any) bool {
	dec := json.NewDecoder(c.r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON", "")
		return false
	}
	return true
}

// page reads page/per_page (per_page capped at 100, default 30, as GitHub).
func (c *call) page() (page, perPage int) {
	q := c.r.URL.Query()
	page, _ = strconv.Atoi(q.Get("page"))
	perPage, _ = strconv.Atoi(q.Get("per_page"))
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = 30
	}
	return page, min(perPage, 100)
}

// paginate slices items for the requested page and sets the Link header
// GitHub sends (next/last, and prev/first past the first page). Callers
// hold s.mu.
func paginate[T any](c *call, items []T) []T {
	page, per := c.page()
	last := max((len(items)+per-1)/per, 1)
	var links []string
	link := func(p int, rel string) {
		u := *c.r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		links = append(links, fmt.Sprintf(`<%s%s>; rel="%s"`, c.s.baseURL, u.RequestURI(), rel))
	}
	if page > 1 {
		link(page-1, "prev")
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := (page - 1) * per
	if lo >= len(items) {
		return []T{}
	}
	return items[lo:min(lo+per, len(items))]
}
