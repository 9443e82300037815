package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// failJobUpdates makes the database refuse any UPDATE of job id, like a
// statement failing half-way through a request.
func failJobUpdates(t *testing.T, st *store.Store, id int64) {
	t.Helper()
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER bulk_fail BEFORE UPDATE ON jobs WHEN OLD.id = %d
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`, id)}
	if st.Driver() == store.DriverPostgres {
		stmts = []string{
			`CREATE FUNCTION bulk_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
			fmt.Sprintf(`CREATE TRIGGER bulk_fail BEFORE UPDATE ON jobs FOR EACH ROW WHEN (OLD.id = %d) EXECUTE FUNCTION bulk_fail()`, id),
		}
	}
	for _, q := range stmts {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatalf("install failing trigger: %v", err)
		}
	}
}

func TestBulkIsOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		admin := h.session("admin")
		a, b, c := h.enqueue(admin, "bottom"), h.enqueue(admin, "bottom"), h.enqueue(admin, "bottom")
		failJobUpdates(t, st, b.ID)

		rec := h.do(admin, "POST", "/api/v1/jobs/bulk", map[string]any{"action": "pause", "job_ids": []int64{a.ID, b.ID, c.ID}})
		if rec.Code != http.StatusInternalServerError || decodeErr(t, rec).Code != "internal" {
			t.Fatalf("a database failure mid-way: %d %s, want 500 internal", rec.Code, rec.Body.String())
		}
		for _, id := range []int64{a.ID, c.ID} {
			var j jobJSON
			h.doJSON(admin, "GET", fmt.Sprintf("/api/v1/jobs/%d", id), nil, 200, &j)
			if j.Paused {
				t.Fatalf("job %d was paused although the request failed", id)
			}
		}

		var res struct {
			Results []bulkResult `json:"results"`
		}
		h.doJSON(admin, "POST", "/api/v1/jobs/bulk", map[string]any{"action": "pause", "job_ids": []int64{c.ID, 777777, a.ID}}, 200, &res)
		if len(res.Results) != 3 || !res.Results[0].OK || res.Results[1].Code != "not_found" || !res.Results[2].OK {
			t.Fatalf("mixed ids: %+v, want ok, not_found, ok in request order", res.Results)
		}
		for _, id := range []int64{a.ID, c.ID} {
			var j jobJSON
			h.doJSON(admin, "GET", fmt.Sprintf("/api/v1/jobs/%d", id), nil, 200, &j)
			if !j.Paused {
				t.Fatalf("job %d was not paused", id)
			}
		}
	})
}
