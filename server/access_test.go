package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

// decisions is the access decision for every route, written out by hand so
// that a route added to the router without a decision here fails
// TestAccessMatrix (and a decision for a removed route fails it too).
var decisions = map[string]access{
	"GET /health":                            accessPublic,
	"GET /healthz":                           accessPublic,
	"GET /readyz":                            accessPublic,
	"GET /metrics":                           accessPublic,
	"GET /api/v1/openapi.yaml":               accessPublic,
	"GET /setup":                             accessPublic,
	"GET /api/v1/setup/status":               accessPublic,
	"GET /api/v1/setup/manifest":             accessPublic,
	"GET /api/v1/setup/callback":             accessPublic,
	"GET /api/v1/auth/providers":             accessPublic,
	"POST /api/v1/auth/login":                accessPublic,
	"GET /api/v1/auth/github":                accessPublic,
	"GET /api/v1/auth/github/callback":       accessPublic,
	"POST /api/v1/auth/logout":               accessUser,
	"GET /api/v1/auth/me":                    accessUser,
	"GET /api/v1/groups":                     accessUser,
	"GET /api/v1/groups/{id}":                accessUser,
	"GET /api/v1/groups/{id}/templates":      accessUser,
	"GET /api/v1/templates/{id}":             accessUser,
	"POST /api/v1/groups/{id}/pause":         accessAdmin,
	"POST /api/v1/groups/{id}/unpause":       accessAdmin,
	"GET /api/v1/groups/{id}/queue":          accessUser,
	"POST /api/v1/groups/{id}/queue":         accessAdmin,
	"PUT /api/v1/groups/{id}/queue/reorder":  accessAdmin,
	"GET /api/v1/jobs/{id}":                  accessUser,
	"PUT /api/v1/jobs/{id}":                  accessAdmin,
	"DELETE /api/v1/jobs/{id}":               accessAdmin,
	"POST /api/v1/jobs/{id}/pause":           accessAdmin,
	"POST /api/v1/jobs/{id}/unpause":         accessAdmin,
	"POST /api/v1/jobs/{id}/cancel":          accessAdmin,
	"POST /api/v1/jobs/{id}/disable-requeue": accessAdmin,
	"PUT /api/v1/jobs/{id}/auto-requeue":     accessAdmin,
	"POST /api/v1/jobs/bulk":                 accessAdmin,
	"GET /api/v1/groups/{id}/history":        accessUser,
	"GET /api/v1/groups/{id}/history/stats":  accessUser,
	"GET /api/v1/runners":                    accessUser,
	"GET /api/v1/groups/{id}/runners":        accessUser,
	"POST /api/v1/runners/refresh":           accessAdmin,
	"POST /api/v1/templates/reload":          accessAdmin,
	"GET /api/v1/status":                     accessUser,
	"GET /api/v1/ws":                         accessUser,
	"GET /api/v1/audit":                      accessAdmin,
	"GET /api/v1/tokens":                     accessAdmin,
	"POST /api/v1/tokens":                    accessAdmin,
	"DELETE /api/v1/tokens/{id}":             accessAdmin,
}

func TestEveryRouteHasADecision(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), harnessOpts{})
	seen := map[string]bool{}
	for _, rt := range h.srv.routes {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		want, ok := decisions[key]
		if !ok {
			t.Errorf("route %s has no access decision in the test table", key)
			continue
		}
		if rt.Access != want {
			t.Errorf("route %s: router says %s, decision is %s", key, rt.Access, want)
		}
	}
	for key := range decisions {
		if !seen[key] {
			t.Errorf("decision for %s, which the router does not serve", key)
		}
	}
}

// TestAccessMatrix calls every route as anonymous, readonly (session), admin
// (session) and admin (API token) and checks allowed/denied for each cell:
// anonymous gets 401 on user and admin routes, readonly gets 403 on admin
// routes, admins get through everywhere. "Through" means the handler ran:
// any answer but 401/403 (a 400 for an empty body is fine here).
func TestAccessMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, harnessOpts{})
		setup := h.session("admin")
		for _, rt := range h.srv.routes {
			want := decisions[rt.Method+" "+rt.Path]
			// Fresh callers per route: logout ends a session and a token
			// may be revoked by the route under test.
			callers := []struct {
				c    caller
				role string
			}{
				{anonymous, ""},
				{h.session("viewer"), roleReadonly},
				{h.session("admin"), roleAdmin},
				{h.token(fmt.Sprintf("matrix-%s-%s", rt.Method, strings.ReplaceAll(rt.Path, "/", "_")), roleAdmin), roleAdmin},
			}
			for _, cl := range callers {
				job := h.enqueue(setup, "bottom")
				victim := h.token(fmt.Sprintf("victim-%d", job.ID), roleReadonly)
				tok, err := h.st.GetTokenByHash(t.Context(), store.HashSecret(victim.token))
				if err != nil {
					t.Fatal(err)
				}
				path := strings.NewReplacer("{id}", idFor(rt.Path, testGroup, testTmpl, job.ID, tok.ID)).Replace(rt.Path)
				t.Run(fmt.Sprintf("%s %s as %s", rt.Method, rt.Path, cl.c.name), func(t *testing.T) {
					rec := h.do(cl.c, rt.Method, path, nil)
					var wantCode int
					switch {
					case want == accessPublic:
					case cl.role == "":
						wantCode = http.StatusUnauthorized
					case want == accessAdmin && cl.role != roleAdmin:
						wantCode = http.StatusForbidden
					}
					denied := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden
					switch {
					case wantCode != 0 && rec.Code != wantCode:
						t.Fatalf("want %d (denied), got %d: %s", wantCode, rec.Code, rec.Body.String())
					case wantCode == 0 && denied:
						t.Fatalf("want allowed, got %d: %s", rec.Code, rec.Body.String())
					}
					if denied {
						decodeErr(t, rec)
					}
				})
			}
		}
	})
}

func idFor(path, group, tmpl string, job, token int64) string {
	switch {
	case strings.HasPrefix(path, "/api/v1/groups/"):
		return group
	case strings.HasPrefix(path, "/api/v1/templates/"):
		return tmpl
	case strings.HasPrefix(path, "/api/v1/tokens/"):
		return fmt.Sprint(token)
	default:
		return fmt.Sprint(job)
	}
}
