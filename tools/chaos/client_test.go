package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"time"
)

// client speaks the REST API as an admin with a session cookie. Sessions
// live in the database, so one login survives every restart; cookies are
// per host, not per port, so one jar serves every replica on 127.0.0.1.
type client struct {
	hc *http.Client
}

// job is the part of the API's Job the checks read.
type job struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	RunID      int64  `json:"run_id"`
	Conclusion string `json:"conclusion"`
	Error      string `json:"error"`
}

type apiRunner struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Busy   bool   `json:"busy"`
}

func newClient(ctx context.Context, base string) (*client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("cookie jar: %w", err)
	}
	c := &client{hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	body := map[string]string{"username": adminUser, "password": adminPass}
	if err := c.do(ctx, http.MethodPost, base+"/api/v1/auth/login", body, nil); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	return c, nil
}

// do sends one request; out, when set, receives the JSON answer. Any status
// above 299 is an error carrying the body.
func (c *client) do(ctx context.Context, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, u, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "dispatchoor")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	if resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, u, b, err)
		}
	}
	return nil
}

func (c *client) enqueue(ctx context.Context, base string) (job, error) {
	var j job
	err := c.do(ctx, http.MethodPost, base+"/api/v1/groups/"+groupID+"/queue", map[string]string{"template_id": templateID}, &j)
	return j, err
}

func (c *client) job(ctx context.Context, base string, id int64) (job, error) {
	var j job
	err := c.do(ctx, http.MethodGet, base+"/api/v1/jobs/"+strconv.FormatInt(id, 10), nil, &j)
	return j, err
}

// activeJobs lists the group's live queue (every job not yet terminal),
// following next_cursor.
func (c *client) activeJobs(ctx context.Context, base string) ([]job, error) {
	var all []job
	cursor := ""
	for {
		var page struct {
			Items      []job  `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		u := base + "/api/v1/groups/" + groupID + "/queue?limit=1000"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.do(ctx, http.MethodGet, u, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

func (c *client) runners(ctx context.Context, base string) ([]apiRunner, error) {
	var page struct {
		Items []apiRunner `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, base+"/api/v1/runners?limit=1000", nil, &page)
	return page.Items, err
}

func (c *client) refresh(ctx context.Context, base string) error {
	return c.do(ctx, http.MethodPost, base+"/api/v1/runners/refresh", nil, nil)
}

// isLeader reads /api/v1/status; an unreachable replica is not the leader.
func (c *client) isLeader(ctx context.Context, base string) bool {
	var st struct {
		Dispatcher *struct {
			Leader bool `json:"leader"`
		} `json:"dispatcher"`
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.do(ctx, http.MethodGet, base+"/api/v1/status", nil, &st); err != nil {
		return false
	}
	return st.Dispatcher != nil && st.Dispatcher.Leader
}
