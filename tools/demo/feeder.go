package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// Queue is what the feeder needs of the queue service.
type Queue interface {
	Enqueue(ctx context.Context, req queue.EnqueueRequest) (core.Job, error)
}

// Counter reports live jobs per group and status.
type Counter interface {
	QueueCounts(ctx context.Context) ([]store.QueueCount, error)
	ListTemplates(ctx context.Context, groupID string) ([]core.Template, error)
}

// FeedOptions tune the feeder.
type FeedOptions struct {
	Queue   Queue
	Counter Counter
	Logger  zerolog.Logger
	// Every is how often the feeder looks; default 2s.
	Every time.Duration
	// MinPending is the pending depth it keeps per group; default 4.
	MinPending int
	// CommentEvery posts a /dispatch comment as the maintainer so the
	// slash-command path is seen working too; zero disables it.
	CommentEvery time.Duration
}

// Feed keeps every group's queue topped up until ctx ends: the newcomer sees
// jobs wait, dispatch, run and finish without doing anything.
func (w *World) Feed(ctx context.Context, opts FeedOptions) {
	if opts.Every <= 0 {
		opts.Every = 2 * time.Second
	}
	if opts.MinPending <= 0 {
		opts.MinPending = 4
	}
	log := opts.Logger.With().Str("component", "demo-feeder").Logger()
	tick := time.NewTicker(opts.Every)
	defer tick.Stop()
	var lastComment time.Time
	for {
		if err := w.topUp(ctx, opts); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("top up queues")
		}
		if opts.CommentEvery > 0 && time.Since(lastComment) >= opts.CommentEvery {
			lastComment = time.Now()
			if err := w.comment(); err != nil {
				log.Warn().Err(err).Msg("post /dispatch comment")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *World) topUp(ctx context.Context, opts FeedOptions) error {
	counts, err := opts.Counter.QueueCounts(ctx)
	if err != nil {
		return fmt.Errorf("queue counts: %w", err)
	}
	pending := map[string]int{}
	for _, c := range counts {
		if c.Status == core.StatusPending {
			pending[c.GroupID] += c.Count
		}
	}
	templates, err := opts.Counter.ListTemplates(ctx, "")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	byGroup := map[string][]core.Template{}
	for _, t := range templates {
		byGroup[t.GroupID] = append(byGroup[t.GroupID], t)
	}
	for group, ts := range byGroup {
		for n := pending[group]; n < opts.MinPending; n++ {
			t := ts[w.rand.IntN(len(ts))]
			_, err := opts.Queue.Enqueue(ctx, queue.EnqueueRequest{
				GroupID: group, TemplateID: t.ID, Source: core.JobSourceAPI, CreatedBy: "demo-feeder",
			})
			if err != nil {
				return fmt.Errorf("enqueue %s: %w", t.ID, err)
			}
		}
	}
	return nil
}

// comment posts a slash-command as the maintainer on an issue of the sync
// repository, the way a person would.
func (w *World) comment() error {
	c := clients[w.rand.IntN(len(clients))]
	_, err := w.Sim.SendIssueComment(ghsim.IssueComment{
		Repo: Org + "/sync-tests", Issue: 1, User: "maintainer",
		Body: fmt.Sprintf("Can we re-check this one?\n\n/dispatch sync-%s-%s network=hoodi", c.EL, c.CL),
	})
	return err
}
