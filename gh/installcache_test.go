package gh_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/rs/zerolog"
)

// installWorld is a GitHub whose installations change under the client:
// owners map to installation ids, an installation can be deleted (its
// token requests answer 404 and its issued tokens 401), and a repository
// can leave the selection (404 with the token, as GitHub answers).
type installWorld struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	now       time.Time
	owners    map[string]int64
	deleted   map[int64]bool
	excluded  map[string]bool // "owner/repo" not covered by its owner's installation
	suspended map[int64]bool
	reqs      []string // "METHOD path" without the /api/v3 prefix
}

func newInstallWorld(t *testing.T) (*installWorld, *gh.Client) {
	w := &installWorld{t: t, now: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC),
		owners: map[string]int64{"acme": 7}, deleted: map[int64]bool{}, excluded: map[string]bool{},
		suspended: map[int64]bool{}}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	c, err := gh.New(gh.Options{APIURL: w.srv.URL + "/api/v3/", AppID: 1, PrivateKey: testKeyPEM(t),
		Logger: zerolog.New(zerolog.NewTestWriter(t)), Now: w.clock, Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	return w, c
}

func (w *installWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *installWorld) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

func (w *installWorld) set(f func(w *installWorld)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

// count returns how many requests were made whose "METHOD path" ends with
// suffix.
func (w *installWorld) count(suffix string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.reqs {
		if strings.HasSuffix(r, suffix) {
			n++
		}
	}
	return n
}

func (w *installWorld) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	w.reqs = append(w.reqs, r.Method+" "+path)
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	p := strings.Split(strings.Trim(path, "/"), "/")
	installation := func(owner string) {
		id := w.owners[owner]
		if id == 0 {
			ghError(rw, http.StatusNotFound, "Not Found", "")
			return
		}
		in := map[string]any{"id": id, "account": map[string]any{"login": owner, "type": "Organization"}}
		if w.suspended[id] {
			in["suspended_at"] = w.now.Add(-time.Hour).Format(time.RFC3339)
		}
		_ = json.NewEncoder(rw).Encode(in)
	}
	// token returns the installation whose live token authenticated r.
	token := func() (int64, bool) {
		id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("Authorization"), "token ghs_"), 10, 64)
		if err != nil || w.deleted[id] {
			ghError(rw, http.StatusUnauthorized, "Bad credentials", "")
			return 0, false
		}
		return id, true
	}
	runners := func() {
		_ = json.NewEncoder(rw).Encode(map[string]any{"total_count": 0, "runners": []any{}})
	}
	switch {
	case r.Method == http.MethodPost && len(p) == 4 && p[3] == "access_tokens":
		id, _ := strconv.ParseInt(p[2], 10, 64)
		if w.deleted[id] {
			ghError(rw, http.StatusNotFound, "Not Found", "")
			return
		}
		rw.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(rw).Encode(map[string]any{"token": "ghs_" + p[2], "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	case len(p) == 3 && p[0] == "orgs" && p[2] == "installation":
		installation(p[1])
	case len(p) == 3 && p[0] == "users":
		ghError(rw, http.StatusNotFound, "Not Found", "")
	case len(p) == 4 && p[0] == "repos" && p[3] == "installation":
		if w.excluded[p[1]+"/"+p[2]] {
			ghError(rw, http.StatusNotFound, "Not Found", "")
			return
		}
		installation(p[1])
	case len(p) == 4 && p[0] == "orgs" && p[3] == "runners":
		if id, ok := token(); ok && w.owners[p[1]] == id {
			runners()
		} else if ok {
			ghError(rw, http.StatusNotFound, "Not Found", "")
		}
	case len(p) == 5 && p[0] == "repos" && p[4] == "runners":
		if id, ok := token(); ok && w.owners[p[1]] == id && !w.excluded[p[1]+"/"+p[2]] {
			runners()
		} else if ok {
			ghError(rw, http.StatusNotFound, "Not Found", "")
		}
	default:
		ghError(rw, http.StatusNotFound, "Not Found", "")
	}
}

func TestInstallationCacheCorrectsItself(t *testing.T) {
	t.Run("cached installation id is reused for an hour", func(t *testing.T) {
		w, c := newInstallWorld(t)
		for _, after := range []time.Duration{0, 30 * time.Minute, 29 * time.Minute} {
			w.advance(after)
			if in, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil || in.ID != 7 {
				t.Fatalf("after %s: got %+v (err %v), want installation 7", after, in, err)
			}
		}
		if n := w.count("/orgs/acme/installation"); n != 1 {
			t.Fatalf("%d lookups within 59 minutes, want 1", n)
		}
		w.advance(2 * time.Minute)
		if _, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil {
			t.Fatal(err)
		}
		if n := w.count("/orgs/acme/installation"); n != 2 {
			t.Fatalf("%d lookups after 61 minutes unconfirmed, want 2", n)
		}
	})
	t.Run("a request that succeeds with the installation's token keeps its lookup", func(t *testing.T) {
		w, c := newInstallWorld(t)
		for range 4 { // lookups and listings 50 minutes apart: 150 minutes
			if _, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListRunners(ctxT(t), 7, "org:acme"); err != nil {
				t.Fatal(err)
			}
			w.advance(50 * time.Minute)
		}
		if n := w.count("/orgs/acme/installation"); n != 1 {
			t.Fatalf("%d lookups while every listing succeeded, want 1", n)
		}
	})
	t.Run("installation removed: 404 on token forgets it and the next lookup asks again", func(t *testing.T) {
		w, c := newInstallWorld(t)
		if _, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil {
			t.Fatal(err)
		}
		w.set(func(w *installWorld) { w.deleted[7], w.owners["acme"] = true, 8 }) // uninstalled, installed again
		if _, err := c.ListRunners(ctxT(t), 7, "org:acme"); err == nil {
			t.Fatal("listing with a deleted installation succeeded")
		}
		in, err := c.InstallationForOwner(ctxT(t), "acme")
		if err != nil || in.ID != 8 {
			t.Fatalf("got %+v (err %v), want the new installation 8", in, err)
		}
		if n := w.count("/orgs/acme/installation"); n != 2 {
			t.Fatalf("%d lookups, want 2 (the refused token forgot the first)", n)
		}
	})
	t.Run("a revoked token (401) forgets the installation", func(t *testing.T) {
		w, c := newInstallWorld(t)
		if _, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListRunners(ctxT(t), 7, "org:acme"); err != nil {
			t.Fatal(err)
		}
		w.set(func(w *installWorld) { w.deleted[7], w.owners["acme"] = true, 9 })
		if _, err := c.ListRunners(ctxT(t), 7, "org:acme"); err == nil {
			t.Fatal("listing with a revoked token succeeded")
		}
		if in, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil || in.ID != 9 {
			t.Fatalf("got %+v (err %v), want the new installation 9", in, err)
		}
	})
	t.Run("404 for a repository forgets that repository's lookup only", func(t *testing.T) {
		w, c := newInstallWorld(t)
		if _, err := c.InstallationForRepo(ctxT(t), "acme", "app"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil {
			t.Fatal(err)
		}
		w.set(func(w *installWorld) { w.excluded["acme/app"] = true })
		if _, err := c.ListRunners(ctxT(t), 7, "repo:acme/app"); err == nil {
			t.Fatal("listing a repository outside the selection succeeded")
		}
		if _, err := c.InstallationForRepo(ctxT(t), "acme", "app"); err == nil {
			t.Fatal("repository lookup still answered from the cache")
		}
		if _, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil {
			t.Fatal(err)
		}
		if a, b := w.count("/repos/acme/app/installation"), w.count("/orgs/acme/installation"); a != 2 || b != 1 {
			t.Fatalf("repository lookups %d (want 2), owner lookups %d (want 1)", a, b)
		}
	})
	t.Run("a suspended installation is looked up again within a minute", func(t *testing.T) {
		w, c := newInstallWorld(t)
		w.set(func(w *installWorld) { w.suspended[7] = true })
		if in, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil || !in.Suspended {
			t.Fatalf("got %+v (err %v), want suspended installation 7", in, err)
		}
		w.set(func(w *installWorld) { delete(w.suspended, 7) })
		w.advance(61 * time.Second)
		if in, err := c.InstallationForOwner(ctxT(t), "acme"); err != nil || in.Suspended {
			t.Fatalf("a minute after the suspension was lifted: got %+v (err %v), want it active", in, err)
		}
		if n := w.count("/orgs/acme/installation"); n != 2 {
			t.Fatalf("%d lookups, want 2", n)
		}
	})
	t.Run("no installation is cached at most a minute", func(t *testing.T) {
		w, c := newInstallWorld(t)
		for range 3 {
			if _, err := c.InstallationForOwner(ctxT(t), "newco"); !gh.IsPermanent(err) {
				t.Fatalf("want a permanent 404, got %v", err)
			}
			w.advance(20 * time.Second)
		}
		if n := w.count("/orgs/newco/installation"); n != 1 {
			t.Fatalf("%d lookups of a missing installation within 40s, want 1", n)
		}
		w.set(func(w *installWorld) { w.owners["newco"] = 11 })
		w.advance(21 * time.Second)
		if in, err := c.InstallationForOwner(ctxT(t), "newco"); err != nil || in.ID != 11 {
			t.Fatalf("a minute after installing: got %+v (err %v), want installation 11", in, err)
		}
	})
	t.Run("ForgetInstallations drops a remembered absence", func(t *testing.T) {
		w, c := newInstallWorld(t)
		if _, err := c.InstallationForOwner(ctxT(t), "newco"); err == nil {
			t.Fatal("found an installation that does not exist")
		}
		w.set(func(w *installWorld) { w.owners["newco"] = 11 })
		c.ForgetInstallations()
		if in, err := c.InstallationForOwner(ctxT(t), "newco"); err != nil || in.ID != 11 {
			t.Fatalf("after the installation webhook: got %+v (err %v), want 11", in, err)
		}
	})
}

// TestNotInstalledIsItsOwnError: a 404 from an installation lookup wraps
// ErrNotInstalled (the dispatcher waits on it rather than failing the job)
// and still carries the classified 404; a cached installation dropped with
// ForgetInstallationFor is asked for again.
func TestNotInstalledIsItsOwnError(t *testing.T) {
	w, c := newInstallWorld(t)
	w.set(func(w *installWorld) { w.excluded["acme/gone"] = true })
	for name, lookup := range map[string]func() error{
		"owner": func() error { _, err := c.InstallationForOwner(ctxT(t), "nobody"); return err },
		"repo":  func() error { _, err := c.InstallationForRepo(ctxT(t), "acme", "gone"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			for _, when := range []string{"asked", "cached"} {
				err := lookup()
				var ae *gh.APIError
				if !errors.Is(err, gh.ErrNotInstalled) || !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
					t.Fatalf("%s: %v: want ErrNotInstalled wrapping the 404", when, err)
				}
			}
		})
	}
	if _, err := c.InstallationForRepo(ctxT(t), "acme", "infra"); err != nil {
		t.Fatal(err)
	}
	w.set(func(w *installWorld) { w.suspended[7] = true })
	if in, _ := c.InstallationForRepo(ctxT(t), "acme", "infra"); in.Suspended {
		t.Fatal("the cache was not in use: this check proves nothing")
	}
	c.ForgetInstallationFor("acme", "infra")
	if in, err := c.InstallationForRepo(ctxT(t), "acme", "infra"); err != nil || !in.Suspended {
		t.Fatalf("after ForgetInstallationFor: %+v, %v; want the suspended installation asked again", in, err)
	}
}
