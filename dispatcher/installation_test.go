package dispatcher

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/handlers"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// installationRouter sends installation and installation_repositories
// deliveries to the product's real webhook handlers (wired to the running
// dispatcher as the app wires them) and everything else to the test's
// receiver.
type installationRouter struct {
	e          *env
	real, rest http.Handler
}

func (r installationRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.e.failHooks.Load() {
		http.Error(w, "receiver down", http.StatusInternalServerError)
		return
	}
	if strings.HasPrefix(req.Header.Get("X-GitHub-Event"), "installation") {
		r.real.ServeHTTP(w, req)
		return
	}
	r.rest.ServeHTTP(w, req)
}

// runWithInstallationHooks starts d's loop with reconciles an hour apart
// (so only the installation webhook can bring anything forward) and routes
// the simulator's installation webhooks through the real handlers.
func (e *env) runWithInstallationHooks(t *testing.T, d *Dispatcher) {
	t.Helper()
	e.runWithInstallationHooksOn(t, d, e.gh)
}

// runWithInstallationHooksOn is runWithInstallationHooks with the webhook
// handlers emptying cache's installation cache: another client than the
// dispatcher's is another replica receiving the webhook.
func (e *env) runWithInstallationHooksOn(t *testing.T, d *Dispatcher, cache handlers.InstallationCache) {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	h, err := handlers.New(handlers.Options{Store: e.store, Queue: e.queue, WebhookSecret: "s3cret",
		Logger: log, Waker: d, Reconciler: d, Installations: cache})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(installationRouter{e: e, real: h, rest: &webhookReceiver{e: e}})
	t.Cleanup(srv.Close)
	e.sim.SetWebhookURL(srv.URL + handlers.Route)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (e *env) installationID(t *testing.T) int64 {
	t.Helper()
	in, err := e.gh.InstallationForOwner(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return in.ID
}

// waitsForInstallation checks that job stays pending with the waiting
// reason and a long back-off, with exactly sent dispatches sent (each
// refused) and GitHub not asked again while it waits (no hot retry loop).
func (e *env) waitsForInstallation(t *testing.T, id int64, reason string, sent int) {
	t.Helper()
	e.waitFor("the job to wait for the installation", 5*time.Second, func() bool {
		j := e.job(id)
		return j.Status == core.StatusPending && strings.HasPrefix(j.Error, waitingPrefix)
	})
	lookups := func() int {
		return len(e.sim.Requests(func(r ghsim.Request) bool { return strings.HasSuffix(r.Path, "/installation") }))
	}
	before := lookups()
	time.Sleep(500 * time.Millisecond) // time for a hot loop to show itself
	if n := lookups() - before; n != 0 {
		t.Fatalf("%d installation lookups in half a second of waiting: a hot retry loop", n)
	}
	j := e.job(id)
	if j.Status != core.StatusPending {
		t.Fatalf("job is %s (error %q), want pending: a missing installation must not fail it", j.Status, j.Error)
	}
	if !strings.Contains(j.Error, reason) {
		t.Fatalf("job error %q does not say %q", j.Error, reason)
	}
	if j.DispatchAfter == nil || j.DispatchAfter.Sub(e.clock.Now()) < time.Minute {
		t.Fatalf("dispatch_after %v: want a back-off of minutes, not a hot retry", j.DispatchAfter)
	}
	if n := len(e.dispatchPOSTs()); n != sent {
		t.Fatalf("%d dispatches sent while the App could not be used, want %d", n, sent)
	}
}

// dispatchedSoon waits for job to be dispatched and finish within a few
// seconds: the installation webhook, not the reconcile an hour away or the
// back-off of minutes, resumed it.
func (e *env) dispatchedSoon(t *testing.T, id int64) {
	t.Helper()
	e.waitFor("the resumed job to complete", 5*time.Second, func() bool {
		return e.job(id).Status == core.StatusCompleted
	})
	if j := e.job(id); j.Error != "" || j.RunID == 0 {
		t.Fatalf("completed job has error %q and run %d; want the waiting reason cleared and a run", j.Error, j.RunID)
	}
}

// TestUninstalledAppJobsWaitAndResumeOnInstall: with the App uninstalled
// from acme, a job waits (pending, with the reason) instead of failing with
// the 404; installing the App again sends installation created, which
// re-lists acme's runners at once (a runner added while the App was away is
// known within seconds) and dispatches the job within seconds.
//
// In "webhook on another replica" the installation webhooks empty another
// client's cache, as when a replica that does not lead receives them: the
// leader's client still remembers the 404 when the job is resumed.
func TestUninstalledAppJobsWaitAndResumeOnInstall(t *testing.T) {
	t.Run("webhook on the leader", func(t *testing.T) { uninstallReinstall(t, false) })
	t.Run("webhook on another replica", func(t *testing.T) { uninstallReinstall(t, true) })
}

func uninstallReinstall(t *testing.T, otherReplica bool) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		var cache handlers.InstallationCache = e.gh
		if otherReplica {
			other, err := gh.New(gh.Options{APIURL: e.sim.APIURL(), AppID: e.sim.AppID(), PrivateKey: e.sim.PrivateKeyPEM()})
			if err != nil {
				t.Fatal(err)
			}
			cache = other
		}
		e.runWithInstallationHooksOn(t, d, cache)

		if err := e.sim.SendInstallation("deleted", e.installationID(t), ""); err != nil {
			t.Fatal(err)
		}
		// GitHub sends the uninstall; the installation cache must forget it.
		e.waitFor("the uninstall to be applied", 5*time.Second, func() bool {
			if otherReplica {
				e.gh.ForgetInstallations() // this replica learns it from GitHub
			}
			_, err := e.gh.InstallationForOwner(context.Background(), "acme")
			return errors.Is(err, gh.ErrNotInstalled)
		})
		j := e.enqueue(tmplPlain)
		e.waitsForInstallation(t, j.ID, "not installed on acme/infra", 0)

		// While the App was away its runners changed without any webhook.
		if err := e.sim.RemoveRunner(e.runners[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sim.AddRunner(ghsim.Runner{Name: "sync-new", Scope: "org:acme",
			Labels: []string{"self-hosted", "Linux", "X64", "sync"}, Online: true}); err != nil {
			t.Fatal(err)
		}
		in, err := e.sim.AddInstallation(ghsim.Installation{Account: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.sim.SendInstallation("created", in, ""); err != nil {
			t.Fatal(err)
		}
		e.waitFor("the new installation to re-list acme's runners", 5*time.Second, func() bool {
			rs, err := e.store.ListRunners(context.Background(), store.RunnerFilter{Scope: "org:acme"})
			return err == nil && len(rs) == 1 && rs[0].Name == "sync-new"
		})
		e.dispatchedSoon(t, j.ID)
	})
}

// TestSuspendedAppJobsWaitAndResumeOnUnsuspend: while acme's installation
// is suspended a job waits with the reason (not failed, not retried every
// few seconds); installation unsuspend dispatches it within seconds, not
// after the ten-minute back-off.
func TestSuspendedAppJobsWaitAndResumeOnUnsuspend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		e.runWithInstallationHooks(t, d)
		id := e.installationID(t)

		if err := e.sim.SendInstallation("suspend", id, ""); err != nil {
			t.Fatal(err)
		}
		// Both the store and the client must know, or the dispatch may
		// still use a cached installation (and be refused: another test).
		e.waitFor("the suspension to be applied", 5*time.Second, func() bool {
			ins, err := e.store.ListInstallations(context.Background())
			if err != nil || len(ins) != 1 || ins[0].SuspendedAt == nil {
				return false
			}
			in, err := e.gh.InstallationForRepo(context.Background(), "acme", "infra")
			return err == nil && in.Suspended
		})
		j := e.enqueue(tmplPlain)
		e.waitsForInstallation(t, j.ID, "is suspended", 0)

		if err := e.sim.SendInstallation("unsuspend", id, ""); err != nil {
			t.Fatal(err)
		}
		e.dispatchedSoon(t, j.ID)
	})
}

// TestUninstallWebhookLostJobWaits: the uninstall's webhook never arrives,
// so the client still holds the installation; the dispatch is refused
// (its token is) and the dispatcher asks GitHub again before failing the
// job: the App is gone, so the job waits instead.
func TestUninstallWebhookLostJobWaits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		e.runWithInstallationHooks(t, d)
		id := e.installationID(t)
		// The repository's installation is cached from here on, as after
		// any earlier dispatch.
		if _, err := e.gh.InstallationForRepo(context.Background(), "acme", "infra"); err != nil {
			t.Fatal(err)
		}

		e.failHooks.Store(true)
		if err := e.sim.SendInstallation("deleted", id, ""); err != nil {
			t.Fatal(err)
		}
		e.waitFor("the uninstall delivery to fail", 5*time.Second, func() bool {
			for _, dl := range e.sim.Deliveries() {
				if dl.Event == "installation" && dl.StatusCode == http.StatusInternalServerError {
					return true
				}
			}
			return false
		})
		e.failHooks.Store(false)
		j := e.enqueue(tmplPlain)
		// One dispatch, refused with the stale token; then it waits.
		e.waitsForInstallation(t, j.ID, "not installed on acme/infra", 1)
	})
}

// TestRepoOutsideSelectionWaitsAndResumesOnAdded: a repository removed from
// the installation's selection makes its jobs wait; installation_repositories
// added dispatches them within seconds.
func TestRepoOutsideSelectionWaitsAndResumesOnAdded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, envOptions{runners: 1})
		d := e.dispatcher(nil)
		e.reconcileRunners(d)
		e.runWithInstallationHooks(t, d)
		id := e.installationID(t)

		if err := e.sim.SendInstallationRepositories(id, nil, []string{"acme/infra"}, ""); err != nil {
			t.Fatal(err)
		}
		e.waitFor("the removal to be applied", 5*time.Second, func() bool {
			_, err := e.gh.InstallationForRepo(context.Background(), "acme", "infra")
			return errors.Is(err, gh.ErrNotInstalled)
		})
		j := e.enqueue(tmplPlain)
		e.waitsForInstallation(t, j.ID, "not installed on acme/infra", 0)

		if err := e.sim.SendInstallationRepositories(id, []string{"acme/infra"}, nil, ""); err != nil {
			t.Fatal(err)
		}
		e.dispatchedSoon(t, j.ID)
	})
}
