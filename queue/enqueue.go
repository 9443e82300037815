package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
)

// EnqueueRequest adds a job to a group's queue, either from a template
// (TemplateID set; Ref and Inputs override the template's) or as a manual job
// (Owner, Repo, WorkflowID and Ref set).
type EnqueueRequest struct {
	GroupID    string
	TemplateID string
	// Manual job only.
	Owner, Repo, WorkflowID string
	// Name is a manual job's display name; default "owner/repo workflow".
	Name   string
	Ref    string
	Inputs map[string]string
	// Position is "top", "bottom" (default) or "before:<job-id>".
	Position     string
	AutoRequeue  bool
	RequeueLimit int // 0 = no limit
	Source       core.JobSource
	SourceURL    string
	CreatedBy    string
}

// Enqueue validates req and adds the job. Errors: *ValidationError for a bad
// request, store.ErrNotFound (wrapped) for an unknown group or template,
// store.ErrConflict for a disabled group or a queue that changed under a
// "before" placement.
func (s *Service) Enqueue(ctx context.Context, req EnqueueRequest) (core.Job, error) {
	j, at, err := s.buildJob(ctx, req)
	if err != nil {
		return core.Job{}, err
	}
	out, err := s.store.InsertJob(ctx, j, at)
	if err != nil {
		return core.Job{}, fmt.Errorf("enqueue into %s: %w", req.GroupID, err)
	}
	s.log.Info().Int64("job", out.ID).Str("group", out.GroupID).Str("template", out.TemplateID).
		Str("source", string(out.Source)).Str("created_by", out.CreatedBy).Msg("job enqueued")
	s.events.JobCreated(out)
	s.events.QueueChanged(out.GroupID)
	return out, nil
}

func (s *Service) buildJob(ctx context.Context, req EnqueueRequest) (core.Job, store.Placement, error) {
	var at store.Placement
	if req.GroupID == "" {
		return core.Job{}, at, invalid("group_id", "is required")
	}
	if !req.Source.Valid() {
		return core.Job{}, at, invalid("source", "%q is not one of ui, api, comment", req.Source)
	}
	if req.RequeueLimit < 0 {
		return core.Job{}, at, invalid("requeue_limit", "must not be negative, got %d", req.RequeueLimit)
	}
	if err := checkInputs(req.Inputs); err != nil {
		return core.Job{}, at, err
	}
	at, err := parsePosition(req.Position)
	if err != nil {
		return core.Job{}, at, err
	}
	g, err := s.store.GetGroup(ctx, req.GroupID)
	if err != nil {
		return core.Job{}, at, fmt.Errorf("enqueue: %w", err)
	}
	if !g.Enabled {
		return core.Job{}, at, fmt.Errorf("enqueue: group %s is disabled (no longer in the config): %w", g.ID, store.ErrConflict)
	}
	j := core.Job{
		GroupID: g.ID, AutoRequeue: req.AutoRequeue, RequeueLimit: req.RequeueLimit,
		Source: req.Source, SourceURL: req.SourceURL, CreatedBy: req.CreatedBy,
	}
	if req.TemplateID != "" {
		for _, f := range []struct{ name, v string }{{"owner", req.Owner}, {"repo", req.Repo}, {"workflow_id", req.WorkflowID}} {
			if f.v != "" {
				return core.Job{}, at, invalid(f.name, "must not be set with template_id (the template defines it)")
			}
		}
		t, err := s.store.GetTemplate(ctx, req.TemplateID)
		if err != nil {
			return core.Job{}, at, fmt.Errorf("enqueue: %w", err)
		}
		if t.GroupID != g.ID {
			return core.Job{}, at, invalid("template_id", "template %s belongs to group %s, not %s", t.ID, t.GroupID, g.ID)
		}
		j.TemplateID, j.Name, j.Owner, j.Repo, j.WorkflowID, j.Ref = t.ID, t.Name, t.Owner, t.Repo, t.WorkflowID, t.Ref
		j.Inputs = maps.Clone(t.Inputs)
		j.Labels = maps.Clone(t.Labels)
		if req.Ref != "" {
			j.Ref = req.Ref
		}
		if j.Inputs == nil {
			j.Inputs = map[string]string{}
		}
		maps.Copy(j.Inputs, req.Inputs)
	} else {
		for _, f := range []struct{ name, v string }{
			{"owner", req.Owner}, {"repo", req.Repo}, {"workflow_id", req.WorkflowID}, {"ref", req.Ref},
		} {
			if strings.TrimSpace(f.v) == "" {
				return core.Job{}, at, invalid(f.name, "is required for a job without template_id")
			}
		}
		j.Owner, j.Repo, j.WorkflowID, j.Ref = req.Owner, req.Repo, req.WorkflowID, req.Ref
		j.Name = req.Name
		if j.Name == "" {
			j.Name = fmt.Sprintf("%s/%s %s", req.Owner, req.Repo, req.WorkflowID)
		}
		j.Inputs = maps.Clone(req.Inputs)
	}
	// The template's inputs merged with the request's are what GitHub
	// will see; refuse now what it would refuse at dispatch.
	if err := core.CheckDispatchInputs(j.Inputs, 0); err != nil {
		return core.Job{}, at, invalid("inputs", "%v", err)
	}
	if at.Where == store.Before {
		if err := s.checkAnchor(ctx, g.ID, at.Before); err != nil {
			return core.Job{}, at, err
		}
	}
	return j, at, nil
}

// checkAnchor gives a clear 400 for a "before" job that cannot be one; the
// store re-checks under its lock, so a race still ends in ErrConflict.
func (s *Service) checkAnchor(ctx context.Context, groupID string, id int64) error {
	a, err := s.store.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("position", "job %d does not exist", id)
	}
	if err != nil {
		return err
	}
	if a.GroupID != groupID {
		return invalid("position", "job %d belongs to group %s, not %s", id, a.GroupID, groupID)
	}
	if a.Status != core.StatusPending {
		return invalid("position", "job %d is %s; jobs can only be placed before a pending job", id, a.Status)
	}
	return nil
}

func parsePosition(p string) (store.Placement, error) {
	switch {
	case p == "" || p == "bottom":
		return store.Placement{Where: store.Bottom}, nil
	case p == "top":
		return store.Placement{Where: store.Top}, nil
	case strings.HasPrefix(p, "before:"):
		id, err := strconv.ParseInt(strings.TrimPrefix(p, "before:"), 10, 64)
		if err != nil || id <= 0 {
			return store.Placement{}, invalid("position", "%q: want before:<job-id> with a numeric job id", p)
		}
		return store.Placement{Where: store.Before, Before: id}, nil
	default:
		return store.Placement{}, invalid("position", "%q: want top, bottom or before:<job-id>", p)
	}
}

func checkInputs(in map[string]string) error {
	for k := range in {
		if strings.TrimSpace(k) == "" {
			return invalid("inputs", "an input name is empty")
		}
	}
	return nil
}
