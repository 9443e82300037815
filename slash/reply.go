package slash

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
)

// entry is one line of a reply: the answer to one command or one unreadable
// line. A queued job's line is rendered from the job's latest state each
// time the reply is written, so the same reply tells the whole story.
type entry struct {
	line    int
	text    string // markdown, unless jobID is set
	refused bool
	jobID   int64
	pos     string // the job's queue position when it was queued
}

// reply is our answer to one comment.
type reply struct {
	c       Comment
	header  string
	entries []entry
	footer  string
	// The fields below are guarded by tracker.mu.
	jobs    map[int64]core.Job // latest known state of the jobs it queued
	id      int64              // our reply comment; 0 until it is written
	written string             // the body GitHub has
	rocket  bool               // 🚀 sent (or being sent)
}

func (r *reply) refused() bool {
	for _, e := range r.entries {
		if e.refused {
			return true
		}
	}
	return false
}

// dispatched reports whether any of its jobs reached GitHub.
func (r *reply) dispatched() bool {
	for _, j := range r.jobs {
		if j.Status == core.StatusTriggered || j.Status == core.StatusRunning || j.RunID != 0 {
			return true
		}
	}
	return false
}

// done reports whether none of its jobs can change any more.
func (r *reply) done() bool {
	for _, j := range r.jobs {
		if !j.Status.Terminal() {
			return false
		}
	}
	return true
}

// render writes the reply's body; callers hold tracker.mu.
func (s *Service) render(r *reply) string {
	var b strings.Builder
	b.WriteString(r.header)
	for _, e := range r.entries {
		b.WriteString("\n")
		text := e.text
		if e.jobID != 0 {
			text = s.jobLine(r.jobs[e.jobID], e.pos)
		}
		b.WriteString(text)
	}
	if r.footer != "" {
		b.WriteString("\n\n" + r.footer)
	}
	return b.String()
}

// dashboardURL links a job in its group's page of the dashboard.
func (s *Service) dashboardURL(j core.Job) string {
	return fmt.Sprintf("%s/groups/%s?job=%d", s.opts.PublicURL, url.PathEscape(j.GroupID), j.ID)
}

// jobRef names a job the way every line does: number, dashboard link,
// template and group.
func (s *Service) jobRef(j core.Job) string {
	what := j.TemplateID
	if what == "" {
		what = j.Name
	}
	return fmt.Sprintf("job [#%d](%s) `%s` in group `%s`", j.ID, s.dashboardURL(j), what, j.GroupID)
}

// jobLine is one bullet describing a job's state. pos is its queue position
// as computed when it was queued (positions change all the time; editing
// the reply for each change would burn the write budget).
func (s *Service) jobLine(j core.Job, pos string) string {
	ref := s.jobRef(j)
	run := ""
	if j.RunURL != "" {
		run = fmt.Sprintf(" · [workflow run](%s)", j.RunURL)
	}
	switch j.Status {
	case core.StatusPending, core.StatusDispatching:
		line := "- ⏳ Queued " + ref
		if j.Ref != "" {
			line += " on `" + j.Ref + "`"
		}
		if pos != "" {
			line += ", " + pos
		}
		return line
	case core.StatusTriggered, core.StatusRunning:
		if run == "" {
			run = " (its run will be linked here)"
		}
		return "- 🚀 Dispatched " + ref + run
	case core.StatusCompleted:
		return "- ✅ Completed " + ref + conclusion(j) + run
	case core.StatusFailed:
		return "- ❌ Failed " + ref + conclusion(j) + run
	case core.StatusCancelled:
		return "- 🚫 Cancelled " + ref + conclusion(j) + run
	}
	return "- " + ref + ": " + string(j.Status)
}

func conclusion(j core.Job) string {
	var parts []string
	if j.Conclusion != "" {
		parts = append(parts, "conclusion `"+j.Conclusion+"`")
	}
	if j.Error != "" {
		parts = append(parts, oneLine(j.Error, 200))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// oneLine keeps text on one line of at most n runes, so an error message
// cannot break the reply's markdown.
func oneLine(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > n {
		text = string(r[:n-1]) + "…"
	}
	return text
}

// code quotes user-supplied text as inline code, so markdown and mentions
// in it stay inert.
func code(text string) string {
	text = oneLine(text, 100)
	if strings.Contains(text, "`") {
		return "`` " + text + " ``"
	}
	return "`" + text + "`"
}
