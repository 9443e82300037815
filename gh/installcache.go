package gh

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
)

// missingInstallationTTL bounds how long "the App is not installed there"
// is remembered: an installation made a moment ago must be found within a
// minute, while a dispatch loop asking every few seconds about an account
// without the App should not cost a request each time.
const missingInstallationTTL = time.Minute

// installCache remembers which installation serves an owner ("owner:acme")
// or a repository ("repo:acme/infra").
//
// Entries live long (Options.InstallationTTL past their last confirmation)
// because they correct themselves: every request made with an
// installation's token passes through middleware, and what GitHub answers
// either confirms the entries that led to it (2xx) or forgets them (the
// token refused, or a 404 for the owner or repository). A stale id can
// therefore cost one failed request, never an hour of them.
type installCache struct {
	ttl      time.Duration
	now      func() time.Time
	basePath string // the API URL's path, e.g. "/api/v3"

	mu      sync.Mutex
	entries map[string]installEntry
}

type installEntry struct {
	in      Installation
	err     error // a 404 lookup: not installed there
	expires time.Time
}

func newInstallCache(ttl time.Duration, now func() time.Time, basePath string) *installCache {
	return &installCache{ttl: ttl, now: now, basePath: strings.TrimSuffix(basePath, "/"),
		entries: map[string]installEntry{}}
}

func ownerKey(owner string) string      { return "owner:" + strings.ToLower(owner) }
func repoKey(owner, repo string) string { return "repo:" + strings.ToLower(owner+"/"+repo) }

// get returns a live entry: the installation, or the 404 that said there
// is none.
func (ic *installCache) get(key string) (Installation, error, bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	e, ok := ic.entries[key]
	if !ok || !ic.now().Before(e.expires) {
		return Installation{}, nil, false
	}
	return e.in, e.err, true
}

// put remembers a lookup. A suspended installation is remembered only as
// briefly as a missing one: no request is made with its token, so nothing
// would ever correct the entry, and an owner who lifts the suspension
// expects dispatching to resume within a minute, not an hour.
func (ic *installCache) put(key string, in Installation) {
	ttl := ic.ttl
	if in.Suspended {
		ttl = min(ttl, missingInstallationTTL)
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.entries[key] = installEntry{in: in, expires: ic.now().Add(ttl)}
}

// putMissing remembers a lookup that found no installation (404) briefly.
// Any other error (5xx, rate limit, network) is not remembered at all.
func (ic *installCache) putMissing(key string, err error) {
	if !isStatus(err, http.StatusNotFound) {
		return
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.entries[key] = installEntry{err: err, expires: ic.now().Add(min(ic.ttl, missingInstallationTTL))}
}

func (ic *installCache) forgetAll() {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	clear(ic.entries)
}

// drop removes the entries keys, whatever they hold.
func (ic *installCache) drop(keys ...string) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	for _, k := range keys {
		delete(ic.entries, k)
	}
}

// forgetInstallation drops every entry that names inst.
func (ic *installCache) forgetInstallation(inst int64) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	for k, e := range ic.entries {
		if e.err == nil && e.in.ID == inst {
			delete(ic.entries, k)
		}
	}
}

// forget drops the entries keys if they name inst: another installation
// may have been found for them meanwhile, and that one is not in doubt.
func (ic *installCache) forget(inst int64, keys ...string) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	for _, k := range keys {
		if e, ok := ic.entries[k]; ok && e.err == nil && e.in.ID == inst {
			delete(ic.entries, k)
		}
	}
}

// confirm extends the entries keys that name inst: a request with inst's
// token just succeeded for that owner or repository.
func (ic *installCache) confirm(inst int64, keys ...string) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	for _, k := range keys {
		if e, ok := ic.entries[k]; ok && e.err == nil && e.in.ID == inst {
			e.expires = ic.now().Add(ic.ttl)
			ic.entries[k] = e
		}
	}
}

// middleware sits between the retrier and go-githubapp's installation
// transport, so it sees each attempt, including the token request that
// transport makes on its own (whose failure arrives as a
// *ghinstallation.HTTPError, the request itself never sent).
func (ic *installCache) middleware(next http.RoundTripper) http.RoundTripper {
	return transportFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		inst, _ := req.Context().Value(installationCtxKey).(int64)
		if inst > 0 {
			ic.observe(inst, req.URL.Path, resp, err)
		}
		return resp, err
	})
}

func (ic *installCache) observe(inst int64, path string, resp *http.Response, err error) {
	var tokErr *ghinstallation.HTTPError
	if errors.As(err, &tokErr) {
		// The token request was refused: 404 says the installation no
		// longer exists, 403 that it is suspended (a rate limit aside), 401
		// that GitHub will not issue it one. Either way what we know about
		// it is in doubt.
		if s := tokErr.Response; s != nil {
			limited := s.Header.Get("X-RateLimit-Remaining") == "0"
			if s.StatusCode == http.StatusNotFound || s.StatusCode == http.StatusUnauthorized ||
				(s.StatusCode == http.StatusForbidden && !limited) {
				ic.forgetInstallation(inst)
			}
		}
		return
	}
	if err != nil || resp == nil {
		return // no answer: nothing learnt
	}
	keys := ic.keysFor(path)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		// A token GitHub issued and now refuses was revoked: the App was
		// uninstalled from that account.
		ic.forgetInstallation(inst)
	case resp.StatusCode == http.StatusNotFound:
		// GitHub answers 404, not 403, for a repository or organization
		// the token cannot see: the repository may have left the
		// installation's selection. A 404 for a run that was deleted
		// lands here too, and costs one lookup.
		ic.forget(inst, keys.exact)
	case resp.StatusCode < 300:
		ic.confirm(inst, keys.confirmed...)
	}
}

type pathKeys struct {
	exact     string   // the key a 404 puts in doubt
	confirmed []string // the keys a success confirms
}

// keysFor maps a request path to the cache keys it says something about:
// /repos/{owner}/{repo}/... and /orgs/{org}/....
func (ic *installCache) keysFor(path string) pathKeys {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, ic.basePath), "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "repos" && parts[1] != "" && parts[2] != "":
		k := repoKey(parts[1], parts[2])
		return pathKeys{exact: k, confirmed: []string{k, ownerKey(parts[1])}}
	case len(parts) >= 2 && parts[0] == "orgs" && parts[1] != "":
		k := ownerKey(parts[1])
		return pathKeys{exact: k, confirmed: []string{k}}
	}
	return pathKeys{}
}

type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
