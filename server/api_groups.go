package server

import (
	"net/http"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// groupJSON is a group with its live queue counts per status.
type groupJSON struct {
	core.Group
	Queue map[core.JobStatus]int `json:"queue"`
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	groups, err := s.store.ListGroups(r.Context())
	if err != nil {
		return err
	}
	counts, err := s.store.QueueCounts(r.Context())
	if err != nil {
		return err
	}
	out := make([]groupJSON, 0, len(groups))
	for _, g := range groups {
		out = append(out, withCounts(g, counts))
	}
	writeJSON(w, http.StatusOK, list(out))
	return nil
}

func withCounts(g core.Group, counts []store.QueueCount) groupJSON {
	gj := groupJSON{Group: g, Queue: map[core.JobStatus]int{}}
	if gj.RunnerLabels == nil {
		gj.RunnerLabels = []string{}
	}
	for _, c := range counts {
		if c.GroupID == g.ID {
			gj.Queue[c.Status] = c.Count
		}
	}
	return gj
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.store.GetGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	counts, err := s.store.QueueCounts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withCounts(g, counts))
	return nil
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.store.GetGroup(r.Context(), id); err != nil {
		return err
	}
	ts, err := s.store.ListTemplates(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ts))
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.store.GetTemplate(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) pauseGroup(w http.ResponseWriter, r *http.Request) error {
	return s.setGroupPaused(w, r, true)
}

func (s *Server) unpauseGroup(w http.ResponseWriter, r *http.Request) error {
	return s.setGroupPaused(w, r, false)
}

func (s *Server) setGroupPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	if s.queue == nil {
		return errUnavailable("the queue")
	}
	id := r.PathValue("id")
	var err error
	if paused {
		_, err = s.queue.PauseGroup(r.Context(), id)
	} else {
		_, err = s.queue.UnpauseGroup(r.Context(), id)
	}
	if err != nil {
		return err
	}
	action := "unpause"
	if paused {
		action = "pause"
	}
	s.audit(r, principalFrom(r.Context()).Name, action, "group:"+id, nil)
	return s.getGroup(w, r)
}

func (s *Server) reloadTemplates(w http.ResponseWriter, r *http.Request) error {
	if s.opts.TemplateReloader == nil {
		return errUnavailable("template reload")
	}
	res, err := s.opts.TemplateReloader.ReloadTemplates(r.Context())
	if err != nil {
		return err
	}
	s.audit(r, principalFrom(r.Context()).Name, "templates_reload", "", nil)
	if res.DisabledGroups == nil {
		res.DisabledGroups = []string{}
	}
	if res.RemovedTemplates == nil {
		res.RemovedTemplates = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"disabled_groups": res.DisabledGroups, "removed_templates": res.RemovedTemplates,
	})
	return nil
}
