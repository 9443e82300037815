package slash

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ethpandaops/dispatchoor/command"
	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
)

// recentJobs is how many of the author's jobs `status` lists.
const recentJobs = 5

// maxListed bounds `list`, so one comment cannot produce a huge reply.
const maxListed = 50

func refuse(line int, format string, args ...any) entry {
	return entry{line: line, refused: true, text: "- 😕 " + fmt.Sprintf(format, args...)}
}

func answer(line int, text string) entry { return entry{line: line, text: text} }

// allowed says whether a template may be dispatched from c's repository:
// its workflow must live in the same account. The author's permission was
// checked on this repository, which says nothing about another account's.
func allowed(t core.Template, c Comment) bool { return strings.EqualFold(t.Owner, c.Owner) }

// visible says whether c's author may see or cancel job j from here, by the
// same rule.
func visible(j core.Job, c Comment) bool { return strings.EqualFold(j.Owner, c.Owner) }

// run executes one command. Jobs it queues are registered with r.
func (s *Service) run(ctx context.Context, c Comment, a author, cmd command.Command, r *reply) entry {
	switch cmd.Kind {
	case command.KindDispatch:
		return s.dispatch(ctx, c, a, cmd, r)
	case command.KindStatus:
		if cmd.JobID > 0 {
			return s.status(ctx, c, cmd)
		}
		return s.recent(ctx, c, a, cmd.Line)
	case command.KindCancel:
		return s.cancelJob(ctx, c, a, cmd)
	case command.KindList:
		return s.list(ctx, c, cmd.Line)
	case command.KindHelp:
		return answer(cmd.Line, "\n"+command.Help())
	}
	return refuse(cmd.Line, "line %d: unsupported command %s", cmd.Line, code(string(cmd.Kind)))
}

func (s *Service) templates(ctx context.Context, c Comment) ([]core.Template, error) {
	all, err := s.opts.Store.ListTemplates(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	return slices.DeleteFunc(all, func(t core.Template) bool { return !allowed(t, c) }), nil
}

func (s *Service) dispatch(ctx context.Context, c Comment, a author, cmd command.Command, r *reply) entry {
	line := cmd.Line
	t, err := s.opts.Store.GetTemplate(ctx, cmd.Template)
	if err == nil && !allowed(t, c) {
		// Said the same way as an unknown one: another account's
		// templates are none of this repository's business.
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.unknownTemplate(ctx, c, cmd)
	}
	if err != nil {
		return s.failed(line, "read template "+cmd.Template, err)
	}
	if cmd.Group != "" && !strings.EqualFold(cmd.Group, t.GroupID) {
		return refuse(line, "line %d: template %s belongs to group %s, not %s; omit `--group` or name its group",
			line, code(t.ID), code(t.GroupID), code(cmd.Group))
	}
	if cmd.Top && !a.atLeast("write") {
		return refuse(line, "line %d: `--top` needs write permission on %s/%s or above; you have %s",
			line, c.Owner, c.Repo, code(a.role))
	}
	ref := cmd.Ref
	if ref == "pr" {
		var why string
		if ref, why = s.prRef(ctx, c, t); why != "" {
			return refuse(line, "line %d: %s", line, why)
		}
	}
	req := queue.EnqueueRequest{
		GroupID: t.GroupID, TemplateID: t.ID, Inputs: cmd.InputMap(), Ref: ref,
		Position: "bottom", AutoRequeue: cmd.Requeue >= 0, RequeueLimit: max(cmd.Requeue, 0),
		Source: core.JobSourceComment, SourceURL: c.HTMLURL, CreatedBy: a.createdBy(),
	}
	if cmd.Top {
		req.Position = "top"
	}
	j, err := s.opts.Queue.Enqueue(ctx, req)
	if err != nil {
		return s.failed(line, "queue "+t.ID, err)
	}
	s.track.add(r, j)
	pos, err := s.position(ctx, j)
	if err != nil {
		s.log.Warn().Err(err).Int64("job", j.ID).Msg("could not work out a queue position")
	}
	s.log.Info().Int64("job", j.ID).Str("group", j.GroupID).Str("template", t.ID).
		Str("created_by", j.CreatedBy).Int64("comment", c.CommentID).Msg("job queued from a comment")
	return entry{line: line, jobID: j.ID, pos: pos}
}

func (s *Service) unknownTemplate(ctx context.Context, c Comment, cmd command.Command) entry {
	ts, err := s.templates(ctx, c)
	if err != nil {
		return s.failed(cmd.Line, "list templates", err)
	}
	ids := make([]string, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	msg := fmt.Sprintf("line %d: there is no template %s for %s/%s.", cmd.Line, code(cmd.Template), c.Owner, c.Repo)
	if near := nearest(cmd.Template, ids, 3); len(near) > 0 {
		for i, n := range near {
			near[i] = "`" + n + "`"
		}
		msg += " Did you mean " + strings.Join(near, ", ") + "?"
	}
	return refuse(cmd.Line, "%s Write `/dispatch list` to see them all.", msg)
}

// prRef resolves `--ref pr` to the pull request's head branch, or says why
// it cannot.
func (s *Service) prRef(ctx context.Context, c Comment, t core.Template) (ref, why string) {
	if !c.IsPullRequest {
		return "", "`--ref pr` only works in a pull request's comments; this is an issue"
	}
	if s.opts.PullRequests == nil {
		return "", "`--ref pr` cannot be resolved by this server; give the branch: `--ref my-branch`"
	}
	head, err := s.opts.PullRequests.PullRequestHead(ctx, c.InstallationID, c.Owner, c.Repo, c.Issue)
	if err != nil {
		s.log.Warn().Err(err).Int("pull", c.Issue).Msg("could not read the pull request's head")
		return "", fmt.Sprintf("could not read pull request #%d's branch from GitHub; try again or give `--ref`", c.Issue)
	}
	// A fork's branch does not exist in the template's repository, and a
	// branch of the same name there would be someone else's code.
	if !strings.EqualFold(head.Owner+"/"+head.Repo, t.Owner+"/"+t.Repo) {
		return "", fmt.Sprintf("pull request #%d's branch lives in %s, but template %s dispatches in %s/%s",
			c.Issue, head.Owner+"/"+head.Repo, code(t.ID), t.Owner, t.Repo)
	}
	return head.Ref, ""
}

// failed turns an error into a refusal that says what went wrong without
// leaking internals: the author's mistakes verbatim, our own as "logged".
func (s *Service) failed(line int, what string, err error) entry {
	var ve *queue.ValidationError
	switch {
	case errors.As(err, &ve):
		return refuse(line, "line %d: %s", line, oneLine(ve.Error(), 200))
	case errors.Is(err, store.ErrNotFound):
		return refuse(line, "line %d: %s: not found", line, what)
	case errors.Is(err, store.ErrConflict):
		return refuse(line, "line %d: %s: the group is disabled or the queue changed meanwhile; try again", line, what)
	}
	s.log.Error().Err(err).Int("line", line).Msg(what)
	return refuse(line, "line %d: %s failed on our side (logged); try again later", line, what)
}

// position says where a pending job stands in its group's queue.
func (s *Service) position(ctx context.Context, j core.Job) (string, error) {
	if j.Status != core.StatusPending {
		return "", nil
	}
	var ahead, pending, active int
	found := false
	cursor := ""
	for {
		page, err := s.opts.Queue.Queue(ctx, store.QueueQuery{GroupID: j.GroupID, Cursor: cursor, Limit: 1000})
		if err != nil {
			return "", fmt.Errorf("list queue of %s: %w", j.GroupID, err)
		}
		for _, q := range page.Items {
			switch {
			case q.Status.Active():
				active++
			case q.ID == j.ID:
				found = true
				pending++
			default:
				pending++
				if !found {
					ahead++
				}
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if !found {
		return "", nil
	}
	pos := fmt.Sprintf("position %d of %d", ahead+1, pending)
	if active > 0 {
		pos += fmt.Sprintf(" (%d dispatched ahead)", active)
	}
	if g, err := s.opts.Store.GetGroup(ctx, j.GroupID); err == nil && g.Paused {
		pos += "; the group is paused"
	}
	return pos, nil
}

func (s *Service) status(ctx context.Context, c Comment, cmd command.Command) entry {
	j, err := s.opts.Store.GetJob(ctx, cmd.JobID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !visible(j, c)) {
		return refuse(cmd.Line, "line %d: there is no job #%d for %s", cmd.Line, cmd.JobID, c.Owner)
	}
	if err != nil {
		return s.failed(cmd.Line, fmt.Sprintf("read job #%d", cmd.JobID), err)
	}
	pos, err := s.position(ctx, j)
	if err != nil {
		return s.failed(cmd.Line, fmt.Sprintf("find job #%d in its queue", cmd.JobID), err)
	}
	return answer(cmd.Line, s.jobLine(j, pos))
}

// recent lists the author's latest jobs.
func (s *Service) recent(ctx context.Context, c Comment, a author, line int) entry {
	jobs, err := s.jobsBy(ctx, a.createdBy(), recentJobs)
	if err != nil {
		return s.failed(line, "list your jobs", err)
	}
	jobs = slices.DeleteFunc(jobs, func(j core.Job) bool { return !visible(j, c) })
	if len(jobs) == 0 {
		return answer(line, "- You have no jobs from comments yet.")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "- Your latest jobs:")
	for _, j := range jobs {
		pos, err := s.position(ctx, j)
		if err != nil {
			return s.failed(line, "list your jobs", err)
		}
		b.WriteString("\n  " + s.jobLine(j, pos))
	}
	return answer(line, b.String())
}

// jobsBy returns up to n of createdBy's newest jobs. The store has no index
// by creator, so this reads the live jobs and each group's most recent
// history page: bounded work, but a job older than a group's last 100
// finished ones is not found.
func (s *Service) jobsBy(ctx context.Context, createdBy string, n int) ([]core.Job, error) {
	live, err := s.opts.Store.ListJobsByStatus(ctx, core.StatusPending, core.StatusDispatching, core.StatusTriggered, core.StatusRunning)
	if err != nil {
		return nil, err
	}
	groups, err := s.opts.Store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	all := live
	for _, g := range groups {
		page, err := s.opts.Store.History(ctx, store.HistoryQuery{GroupID: g.ID, Limit: 100})
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
	}
	all = slices.DeleteFunc(all, func(j core.Job) bool { return j.CreatedBy != createdBy })
	slices.SortFunc(all, func(a, b core.Job) int { return cmp.Compare(b.ID, a.ID) })
	return all[:min(n, len(all))], nil
}

func (s *Service) cancelJob(ctx context.Context, c Comment, a author, cmd command.Command) entry {
	line := cmd.Line
	j, err := s.opts.Store.GetJob(ctx, cmd.JobID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !visible(j, c)) {
		return refuse(line, "line %d: there is no job #%d for %s", line, cmd.JobID, c.Owner)
	}
	if err != nil {
		return s.failed(line, fmt.Sprintf("read job #%d", cmd.JobID), err)
	}
	if j.CreatedBy != a.createdBy() && !a.adminLevel() {
		return refuse(line, "line %d: only whoever queued job #%d or a maintainer/admin of %s/%s may cancel it",
			line, j.ID, c.Owner, c.Repo)
	}
	out, err := s.opts.Queue.Cancel(ctx, j.ID, a.createdBy())
	if errors.Is(err, core.ErrTransition) {
		return refuse(line, "line %d: job #%d already ended (%s)", line, j.ID, j.Status)
	}
	if err != nil {
		return s.failed(line, fmt.Sprintf("cancel job #%d", j.ID), err)
	}
	if out.Status == core.StatusCancelled {
		return answer(line, "- 🚫 Withdrew "+s.jobRef(out)+" from the queue")
	}
	return answer(line, "- 🛑 Cancelling "+s.jobRef(out)+": its run is being cancelled on GitHub")
}

func (s *Service) list(ctx context.Context, c Comment, line int) entry {
	ts, err := s.templates(ctx, c)
	if err != nil {
		return s.failed(line, "list templates", err)
	}
	if len(ts) == 0 {
		return answer(line, fmt.Sprintf("- No templates can be dispatched from %s/%s.", c.Owner, c.Repo))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "- Templates you can dispatch from %s/%s:", c.Owner, c.Repo)
	for i, t := range ts {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  - … and %d more (see the dashboard: %s)", len(ts)-maxListed, s.opts.PublicURL)
			break
		}
		fmt.Fprintf(&b, "\n  - `%s` — %s (group `%s`, %s/%s `%s`)", t.ID, oneLine(t.Name, 80), t.GroupID, t.Owner, t.Repo, t.WorkflowID)
	}
	return answer(line, b.String())
}
