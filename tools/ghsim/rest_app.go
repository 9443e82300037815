package ghsim

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// restRoutes lists every REST endpoint; patterns are relative to /api/v3.
// Adding an endpoint: add it here, write its handler next to its siblings,
// and drive it in the conformance scenario (see README.md).
func (s *Sim) restRoutes() []route {
	return []route{
		{"GET", "/app", authAppJWT, (*call).getApp},
		{"GET", "/app/installations", authAppJWT, (*call).listInstallations},
		{"GET", "/app/installations/{installation_id}", authAppJWT, (*call).getInstallation},
		{"POST", "/app/installations/{installation_id}/access_tokens", authAppJWT, (*call).createAccessToken},
		{"GET", "/repos/{owner}/{repo}/installation", authAppJWT, (*call).repoInstallation},
		{"GET", "/orgs/{org}/installation", authAppJWT, (*call).accountInstallation},
		{"GET", "/users/{username}/installation", authAppJWT, (*call).accountInstallation},
		{"GET", "/app/hook/deliveries", authAppJWT, (*call).listDeliveries},
		{"GET", "/app/hook/deliveries/{delivery_id}", authAppJWT, (*call).getDelivery},
		{"POST", "/app/hook/deliveries/{delivery_id}/attempts", authAppJWT, (*call).redeliver},
		{"POST", "/app-manifests/{code}/conversions", authNone, (*call).convertManifest},

		{"GET", "/orgs/{org}/actions/runners", authInstallation, (*call).listOrgRunners},
		{"GET", "/repos/{owner}/{repo}/actions/runners", authInstallation, (*call).listRepoRunners},
		{"POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", authInstallation, (*call).dispatch},
		{"GET", "/repos/{owner}/{repo}/actions/runs", authInstallation, (*call).listRuns},
		{"GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", authInstallation, (*call).listRuns},
		{"GET", "/repos/{owner}/{repo}/actions/runs/{run_id}", authInstallation, (*call).getRun},
		{"POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel", authInstallation, (*call).cancelRun},
		{"GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", authInstallation, (*call).listJobs},

		{"POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", authInstallation, (*call).createComment},
		{"PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", authInstallation, (*call).updateComment},
		{"POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", authInstallation, (*call).createReaction},
		{"GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", authInstallation, (*call).collaboratorPermission},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}", authInstallation, (*call).getPull},

		{"GET", "/user", authUser, (*call).getUser},
		{"GET", "/user/orgs", authUser, (*call).listUserOrgs},
	}
}

func (c *call) getApp() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.json(http.StatusOK, c.s.appJSON(c.app))
}

func (c *call) listInstallations() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []obj
	for _, id := range slices.Sorted(maps.Keys(s.installations)) {
		if in := s.installations[id]; in.AppID == c.app.ID {
			all = append(all, s.installationJSON(in))
		}
	}
	c.json(http.StatusOK, paginate(c, all))
}

func (c *call) getInstallation() {
	s := c.s
	id, _ := strconv.ParseInt(c.r.PathValue("installation_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installations[id]
	if !ok || in.AppID != c.app.ID {
		c.fail(http.StatusNotFound, "Not Found", "/apps/apps#get-an-installation-for-the-authenticated-app")
		return
	}
	c.json(http.StatusOK, s.installationJSON(in))
}

func (c *call) repoInstallation() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := s.repos[strings.ToLower(c.r.PathValue("owner")+"/"+c.r.PathValue("repo"))]
	var in *Installation
	if repo != nil {
		in = s.installationFor(c.app.ID, repo)
	}
	if in == nil {
		c.fail(http.StatusNotFound, "Not Found", "/apps/apps#get-a-repository-installation-for-the-authenticated-app")
		return
	}
	c.json(http.StatusOK, s.installationJSON(in))
}

func (c *call) accountInstallation() {
	s := c.s
	account := c.r.PathValue("org") + c.r.PathValue("username")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(s.installations)) {
		in := s.installations[id]
		if in.AppID == c.app.ID && strings.EqualFold(in.Account, account) {
			c.json(http.StatusOK, s.installationJSON(in))
			return
		}
	}
	c.fail(http.StatusNotFound, "Not Found", "/apps/apps#get-an-organization-installation-for-the-authenticated-app")
}

// listDeliveries pages with an opaque cursor, as GitHub does for this
// endpoint (no page numbers), newest first.
func (c *call) listDeliveries() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var mine []*Delivery
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		if d := s.deliveries[i]; d.AppID == c.app.ID && !d.DeliveredAt.IsZero() {
			mine = append(mine, d)
		}
	}
	_, per := c.page()
	start := 0
	if cur := c.r.URL.Query().Get("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		id, err2 := strconv.ParseInt(string(b), 10, 64)
		if err != nil || err2 != nil {
			c.fail(http.StatusUnprocessableEntity, "Invalid cursor", "/apps/webhooks#list-deliveries-for-an-app-webhook")
			return
		}
		start = len(mine)
		for i, d := range mine {
			if d.ID < id {
				start = i
				break
			}
		}
	}
	end := min(start+per, len(mine))
	page := mine[start:end]
	if end < len(mine) {
		u := *c.r.URL
		q := u.Query()
		q.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(page[len(page)-1].ID, 10))))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		c.w.Header().Set("Link", `<`+s.baseURL+u.RequestURI()+`>; rel="next"`)
	}
	out := make([]obj, 0, len(page))
	for _, d := range page {
		out = append(out, deliveryItemJSON(d))
	}
	c.json(http.StatusOK, out)
}

func deliveryItemJSON(d *Delivery) obj {
	var action, ins, repo any
	if d.Action != "" {
		action = d.Action
	}
	if d.InstallationID != 0 {
		ins = d.InstallationID
	}
	if d.RepositoryID != 0 {
		repo = d.RepositoryID
	}
	return obj{
		"id": d.ID, "guid": d.GUID, "delivered_at": d.DeliveredAt.UTC().Format(time.RFC3339),
		"redelivery": d.Redelivery, "duration": d.Duration.Seconds(), "status": d.Status,
		"status_code": d.StatusCode, "event": d.Event, "action": action,
		"installation_id": ins, "repository_id": repo,
	}
}

func (c *call) delivery() *Delivery {
	id, err := strconv.ParseInt(c.r.PathValue("delivery_id"), 10, 64)
	if err != nil {
		return nil
	}
	for _, d := range c.s.deliveries {
		if d.ID == id && d.AppID == c.app.ID {
			return d
		}
	}
	return nil
}

func (c *call) getDelivery() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := c.delivery()
	if d == nil || d.DeliveredAt.IsZero() {
		c.fail(http.StatusNotFound, "Not Found", "/apps/webhooks#get-a-delivery-for-an-app-webhook")
		return
	}
	o := deliveryItemJSON(d)
	reqHeaders := obj{}
	for k := range d.RequestHeader {
		reqHeaders[k] = d.RequestHeader.Get(k)
	}
	var payload any = obj{}
	_ = json.Unmarshal(d.Payload, &payload)
	o["url"] = s.apps[d.AppID].WebhookURL
	o["request"] = obj{"headers": reqHeaders, "payload": payload}
	o["response"] = obj{"headers": obj{}, "payload": d.ResponseBody}
	c.json(http.StatusOK, o)
}

// redeliver queues a new delivery of the same payload and GUID, marked as a
// redelivery, as GitHub's "Redeliver" button does.
func (c *call) redeliver() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := c.delivery()
	if d == nil {
		c.fail(http.StatusNotFound, "Not Found", "/apps/webhooks#redeliver-a-delivery-for-an-app-webhook")
		return
	}
	nd := &Delivery{ID: s.newID(), GUID: d.GUID, AppID: d.AppID, Event: d.Event, Action: d.Action,
		InstallationID: d.InstallationID, RepositoryID: d.RepositoryID, Payload: d.Payload, Redelivery: true}
	s.deliveries = append(s.deliveries, nd)
	s.hooks.push(hookItem{d: nd})
	c.json(http.StatusAccepted, obj{})
}
