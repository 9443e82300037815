package gh

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/go-github/v89/github"
)

const (
	epApp        = "/app"
	epDeliveries = "/app/hook/deliveries"
	epRedeliver  = "/app/hook/deliveries/{delivery_id}/attempts"
)

// AppSlug is the App's slug (GET /app), read once and remembered: it never
// changes for an App id.
func (c *Client) AppSlug(ctx context.Context) (string, error) {
	c.mu.Lock()
	slug := c.slug
	c.mu.Unlock()
	if slug != "" {
		return slug, nil
	}
	app, _, err := c.app.Apps.Get(ctx, "")
	if err != nil {
		return "", wrapf(classify(err, endpoint(http.MethodGet, epApp), true, c.now()), "read the App")
	}
	if app.GetSlug() == "" {
		return "", errors.New("read the App: GitHub returned no slug")
	}
	c.mu.Lock()
	c.slug = app.GetSlug()
	c.mu.Unlock()
	return app.GetSlug(), nil
}

// BotLogin is the login the App acts as ("<slug>[bot]"): the actor of the
// runs it dispatches and the author of its comments.
func (c *Client) BotLogin(ctx context.Context) (string, error) {
	slug, err := c.AppSlug(ctx)
	if err != nil {
		return "", err
	}
	return slug + "[bot]", nil
}

// Delivery is one delivery attempt of the App's webhook.
type Delivery struct {
	ID int64
	// GUID is the X-GitHub-Delivery id; redeliveries keep it.
	GUID           string
	DeliveredAt    time.Time
	Event          string
	Action         string
	Status         string // "OK" when the receiver answered 2xx
	StatusCode     int
	Redelivery     bool
	InstallationID int64
}

// deliveryPageLimit bounds a sweep: at 100 a page, the last 5000 attempts.
const deliveryPageLimit = 50

// ListFailedDeliveries returns the App's webhook deliveries delivered at or
// after since whose event never reached us: a GUID with any successful
// attempt since then (a redelivery keeps the GUID but is a delivery of its
// own, newer, with Redelivery set) is left out, and of the rest only the
// newest attempt per GUID is kept. Newest first.
//
// GitHub lists deliveries newest first and pages with a cursor only, so
// paging stops at the first delivery older than since: a caller that
// remembers what it has examined and passes a later since pays one page
// when nothing new happened.
func (c *Client) ListFailedDeliveries(ctx context.Context, since time.Time) ([]Delivery, error) {
	ep := endpoint(http.MethodGet, epDeliveries)
	opts := &github.ListCursorOptions{PerPage: 100}
	delivered := map[string]bool{}
	seen := map[string]bool{}
	var failed []Delivery
pages:
	for range deliveryPageLimit {
		page, resp, err := c.app.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			return nil, wrapf(classify(err, ep, true, c.now()), "list webhook deliveries")
		}
		for _, d := range page {
			at := d.GetDeliveredAt().Time
			if at.Before(since) {
				break pages // newest first: the rest is older still
			}
			guid := d.GetGUID()
			if d.GetStatus() == "OK" {
				delivered[guid] = true
				continue
			}
			if seen[guid] {
				continue
			}
			seen[guid] = true
			failed = append(failed, Delivery{
				ID: d.GetID(), GUID: guid, DeliveredAt: at, Event: d.GetEvent(), Action: d.GetAction(),
				Status: d.GetStatus(), StatusCode: d.GetStatusCode(), Redelivery: d.GetRedelivery(),
				InstallationID: d.GetInstallationID(),
			})
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	out := failed[:0]
	for _, d := range failed {
		if !delivered[d.GUID] {
			out = append(out, d)
		}
	}
	return out, nil
}

// Redeliver asks GitHub to send a delivery again.
func (c *Client) Redeliver(ctx context.Context, deliveryID int64) error {
	ep := endpoint(http.MethodPost, epRedeliver)
	if deliveryID <= 0 {
		return invalid(ep, "delivery id must be positive, got %d", deliveryID)
	}
	_, _, err := c.app.Apps.RedeliverHookDelivery(ctx, deliveryID)
	var accepted *github.AcceptedError
	if err == nil || errors.As(err, &accepted) {
		return nil
	}
	return wrapf(classify(err, ep, false, c.now()), "redeliver webhook delivery %d", deliveryID)
}
