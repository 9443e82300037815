package server

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestHealthzIsLivenessOnly(t *testing.T) {
	st := storetest.SQLite(t)
	h := newHarness(t, st, harnessOpts{})
	var body Probe
	h.doJSON(anonymous, "GET", "/healthz", nil, 200, &body)
	if body.Status != "ok" {
		t.Fatalf("healthz: %+v", body)
	}
	// A dead database must not get a live process restarted.
	_ = st.Close()
	h.doJSON(anonymous, "GET", "/healthz", nil, 200, &body)
}

func TestReadyz(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Run("ready when migrated and serving", func(t *testing.T) {
			h := newHarness(t, st, harnessOpts{})
			var body Probe
			h.doJSON(anonymous, "GET", "/readyz", nil, 200, &body)
			if body.Status != "ok" || len(body.Reasons) != 0 {
				t.Fatalf("readyz: %+v", body)
			}
		})
		t.Run("draining is not ready", func(t *testing.T) {
			var draining atomic.Bool
			draining.Store(true)
			h := newHarness(t, st, harnessOpts{options: func(o *Options) { o.Draining = draining.Load }})
			var body Probe
			h.doJSON(anonymous, "GET", "/readyz", nil, 503, &body)
			if !slices.Equal(body.Reasons, []string{"draining"}) {
				t.Fatalf("readyz while draining: %+v", body)
			}
		})
		t.Run("missing migration is not ready", func(t *testing.T) {
			ctx := context.Background()
			current, latest, err := st.SchemaVersion(ctx)
			if err != nil || current != latest {
				t.Fatalf("schema %d/%d: %v", current, latest, err)
			}
			// Forget the newest migration as an older release's database would.
			q := st.DB().Rebind("DELETE FROM goose_db_version WHERE version_id = ?")
			if _, err := st.DB().ExecContext(ctx, q, latest); err != nil {
				t.Fatalf("forget migration: %v", err)
			}
			h := newHarness(t, st, harnessOpts{})
			var body Probe
			h.doJSON(anonymous, "GET", "/readyz", nil, 503, &body)
			if len(body.Reasons) != 1 || !strings.HasPrefix(body.Reasons[0], "migrations not applied") {
				t.Fatalf("readyz with an old schema: %+v", body)
			}
		})
	})
	t.Run("database unreachable is not ready", func(t *testing.T) {
		st := storetest.SQLite(t)
		h := newHarness(t, st, harnessOpts{})
		_ = st.Close()
		var body Probe
		h.doJSON(anonymous, "GET", "/readyz", nil, 503, &body)
		if !slices.Equal(body.Reasons, []string{"database unreachable"}) {
			t.Fatalf("readyz with a closed database: %+v", body)
		}
	})
}
