package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/ethpandaops/dispatchoor/store"
)

// Ping acknowledges GitHub's ping, sent when the webhook is created or
// tested; it proves the secret and the route work.
type Ping struct{ *base }

// Handles implements githubapp.EventHandler.
func (h *Ping) Handles() []string { return []string{"ping"} }

// Handle implements githubapp.EventHandler.
func (h *Ping) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev github.PingEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badPayload("decode ping: %v", err)
	}
	fresh, err := h.apply(ctx, deliveryID, eventType, "", func(*store.Q, *effects) error { return nil })
	if err != nil {
		return fmt.Errorf("record ping: %w", err)
	}
	if fresh {
		log := h.logger(ctx, ev.GetInstallation().GetID())
		log.Info().Int64("hook", ev.GetHookID()).Str("zen", ev.GetZen()).
			Msg("ping received")
	}
	return nil
}

var _ githubapp.EventHandler = (*Ping)(nil)
