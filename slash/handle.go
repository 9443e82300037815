package slash

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/ethpandaops/dispatchoor/command"
)

// Handle runs the commands of one comment and answers it, synchronously.
// The webhook path uses Submit; Handle is for callers that want the Result.
//
// The order of writes is: 👀 once the author is known to be allowed, one
// reply with every command's result, 😕 if anything was refused, then 🚀 and
// reply edits as jobs progress (see JobChanged). A refused author gets 😕
// and a one-line reply, without 👀.
func (s *Service) Handle(ctx context.Context, c Comment) (Result, error) {
	if ok, why := s.Relevant(c); !ok {
		return Result{Ignored: why}, nil
	}
	cmds, perrs := command.Parse(c.Body)
	if len(cmds) == 0 && len(perrs) == 0 {
		return Result{Ignored: IgnoredNoCommand}, nil
	}
	if !s.seen.first(c.CommentID) {
		return Result{Ignored: IgnoredDuplicate}, nil
	}
	log := s.log.With().Int64("installation", c.InstallationID).Str("repo", c.Owner+"/"+c.Repo).
		Int("issue", c.Issue).Int64("comment", c.CommentID).Str("author", c.Author).Logger()

	a, err := s.authorise(ctx, c)
	if err != nil {
		log.Warn().Err(err).Msg("could not read the author's permission")
		res, werr := s.refuseAll(ctx, c, fmt.Sprintf("@%s I could not check your permission on %s/%s with GitHub just now; nothing was run. Please try again in a minute.", c.Author, c.Owner, c.Repo))
		if werr != nil {
			return res, werr
		}
		return res, fmt.Errorf("permission of %s on %s/%s: %w", c.Author, c.Owner, c.Repo, err)
	}
	if !a.mappedAdmin && !s.opts.Config.Permits(a.role) {
		log.Info().Str("role", a.role).Str("min_permission", s.opts.Config.MinPermission).Msg("slash command refused: permission too low")
		return s.refuseAll(ctx, c, fmt.Sprintf("@%s /dispatch needs **%s** permission on %s/%s or above; you have %s. Nothing was run.",
			c.Author, s.opts.Config.MinPermission, c.Owner, c.Repo, code(a.role)))
	}
	if err := s.react(ctx, c, "eyes"); err != nil {
		// Feedback is best effort; the commands still run.
		log.Warn().Err(err).Msg("could not react 👀")
	}

	r := &reply{c: c, header: "@" + c.Author}
	if len(cmds) > s.opts.MaxCommands {
		r.footer = fmt.Sprintf("Only the first %d commands were run; the other %d were ignored. Split them over several comments.",
			s.opts.MaxCommands, len(cmds)-s.opts.MaxCommands)
		cmds = cmds[:s.opts.MaxCommands]
	}
	for _, cmd := range cmds {
		r.entries = append(r.entries, s.run(ctx, c, a, cmd, r))
	}
	for _, pe := range perrs {
		r.entries = append(r.entries, refuse(pe.Line, "%s", oneLine(pe.Error(), 300)))
	}
	slices.SortStableFunc(r.entries, func(x, y entry) int { return cmp.Compare(x.line, y.line) })
	res := Result{Refused: r.refused()}
	for _, e := range r.entries {
		if e.jobID != 0 {
			res.Jobs = append(res.Jobs, e.jobID)
		}
	}

	err = s.pace.do(ctx, c.InstallationID, func(ctx context.Context) (bool, error) {
		s.track.mu.Lock()
		body := s.render(r)
		s.track.mu.Unlock()
		cm, err := s.opts.GitHub.CreateComment(ctx, c.InstallationID, c.Owner, c.Repo, c.Issue, body)
		if err != nil {
			return true, err
		}
		s.track.mu.Lock()
		r.id, r.written = cm.ID, body
		s.track.mu.Unlock()
		res.ReplyID = cm.ID
		return true, nil
	})
	if err != nil {
		// Nobody will ever see edits of a reply that does not exist.
		s.track.forget(r)
		return res, fmt.Errorf("reply to comment %d: %w", c.CommentID, err)
	}
	if res.Refused {
		if err := s.react(ctx, c, "confused"); err != nil {
			log.Warn().Err(err).Msg("could not react 😕")
		}
	}
	log.Info().Int("commands", len(cmds)).Int("parse_errors", len(perrs)).Ints64("jobs", res.Jobs).
		Bool("refused", res.Refused).Msg("slash commands handled")
	// Jobs may have moved on while we were writing (the dispatcher is
	// fast): catch the reply up now rather than at their next change.
	if err := s.syncReply(ctx, r); err != nil {
		log.Warn().Err(err).Msg("could not bring the reply up to date")
	}
	if r.id != 0 && len(res.Jobs) == 0 {
		s.track.forget(r)
	}
	return res, nil
}

// refuseAll answers a comment that runs nothing: 😕 and a short reply.
func (s *Service) refuseAll(ctx context.Context, c Comment, msg string) (Result, error) {
	res := Result{Refused: true}
	if err := s.react(ctx, c, "confused"); err != nil {
		return res, fmt.Errorf("refuse comment %d: %w", c.CommentID, err)
	}
	err := s.write(ctx, c.InstallationID, "reply", func(ctx context.Context) error {
		cm, err := s.opts.GitHub.CreateComment(ctx, c.InstallationID, c.Owner, c.Repo, c.Issue, msg)
		res.ReplyID = cm.ID
		return err
	})
	if err != nil {
		return res, fmt.Errorf("refuse comment %d: %w", c.CommentID, err)
	}
	return res, nil
}
