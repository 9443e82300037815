package queue_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/queue"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestEnqueueOrdersTopBottomAndBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		j1 := f.enqueue(t, queue.EnqueueRequest{})
		j2 := f.enqueue(t, queue.EnqueueRequest{Position: "bottom"})
		j3 := f.enqueue(t, queue.EnqueueRequest{Position: "top"})
		j4 := f.enqueue(t, queue.EnqueueRequest{Position: fmt.Sprintf("before:%d", j1.ID)})
		j5 := f.enqueue(t, queue.EnqueueRequest{Position: fmt.Sprintf("before:%d", j3.ID)})
		want := []int64{j5.ID, j3.ID, j4.ID, j1.ID, j2.ID}
		if got := f.pending(t, "alpha"); !reflect.DeepEqual(got, want) {
			t.Fatalf("queue = %v, want %v", got, want)
		}
	})
}

func TestEnqueueFromTemplateMergesOverridesAndCopiesLabels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		j := f.enqueue(t, queue.EnqueueRequest{TemplateID: "a1", Ref: "release", Inputs: map[string]string{"net": "mainnet", "extra": "1"},
			AutoRequeue: true, RequeueLimit: 3, Source: core.JobSourceComment, SourceURL: "https://github.com/o/r/issues/1#issuecomment-9", CreatedBy: "octocat"})
		want := map[string]string{"net": "mainnet", "size": "s", "extra": "1"}
		if !reflect.DeepEqual(j.Inputs, want) || j.Ref != "release" || j.Owner != "o" || j.WorkflowID != "a.yml" || j.Name != "A one" {
			t.Fatalf("job from template: %+v", j)
		}
		if !reflect.DeepEqual(j.Labels, tmplA.Labels) || j.TemplateID != "a1" || !j.AutoRequeue || j.RequeueLimit != 3 ||
			j.Source != core.JobSourceComment || j.CreatedBy != "octocat" || j.SourceURL == "" {
			t.Fatalf("job from template lacks labels or request fields: %+v", j)
		}
		if tmpl, _ := s.GetTemplate(context.Background(), "a1"); tmpl.Inputs["net"] != "hoodi" {
			t.Fatal("overrides leaked into the template")
		}
		if got, want := f.events.take(), []string{fmt.Sprintf("new %d pending", j.ID), "queue alpha"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
		m := f.enqueue(t, queue.EnqueueRequest{Owner: "o", Repo: "x", WorkflowID: "ci.yml", Ref: "dev", Inputs: map[string]string{"a": "b"}})
		if m.TemplateID != "" || m.Name != "o/x ci.yml" || m.Ref != "dev" || m.Inputs["a"] != "b" {
			t.Fatalf("manual job: %+v", m)
		}
	})
}

func TestEnqueueRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		other := f.enqueue(t, queue.EnqueueRequest{GroupID: "beta", TemplateID: "b1"})
		busy := f.enqueue(t, queue.EnqueueRequest{})
		f.run(t, busy.ID, core.StatusDispatching)
		if _, err := s.SyncConfig(ctx, []core.Group{groupA, groupB, {ID: "gone", Name: "Gone"}}, []core.Template{tmplA, tmplB}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SyncConfig(ctx, []core.Group{groupA, groupB}, []core.Template{tmplA, tmplB}); err != nil {
			t.Fatal(err)
		}
		f.events.take()
		tmpl := func(r queue.EnqueueRequest) queue.EnqueueRequest {
			if r.GroupID == "" {
				r.GroupID = "alpha"
			}
			if r.Source == "" {
				r.Source = core.JobSourceUI
			}
			return r
		}
		for _, c := range []struct {
			name  string
			req   queue.EnqueueRequest
			field string // a *ValidationError on this field, or:
			is    error
		}{
			{"no group", queue.EnqueueRequest{TemplateID: "a1", Source: core.JobSourceUI}, "group_id", nil},
			{"unknown group", tmpl(queue.EnqueueRequest{GroupID: "nope", TemplateID: "a1"}), "", store.ErrNotFound},
			{"disabled group", tmpl(queue.EnqueueRequest{GroupID: "gone", Owner: "o", Repo: "r", WorkflowID: "w", Ref: "main"}), "", store.ErrConflict},
			{"unknown template", tmpl(queue.EnqueueRequest{TemplateID: "zz"}), "", store.ErrNotFound},
			{"template of another group", tmpl(queue.EnqueueRequest{TemplateID: "b1"}), "template_id", nil},
			{"template with its own repo", tmpl(queue.EnqueueRequest{TemplateID: "a1", Repo: "evil"}), "repo", nil},
			{"manual job without owner", tmpl(queue.EnqueueRequest{Repo: "r", WorkflowID: "w", Ref: "main"}), "owner", nil},
			{"manual job without ref", tmpl(queue.EnqueueRequest{Owner: "o", Repo: "r", WorkflowID: "w"}), "ref", nil},
			{"unknown source", queue.EnqueueRequest{GroupID: "alpha", TemplateID: "a1", Source: "carrier-pigeon"}, "source", nil},
			{"negative requeue limit", tmpl(queue.EnqueueRequest{TemplateID: "a1", RequeueLimit: -1}), "requeue_limit", nil},
			{"empty input name", tmpl(queue.EnqueueRequest{TemplateID: "a1", Inputs: map[string]string{" ": "x"}}), "inputs", nil},
			{"more inputs than GitHub accepts with the template's", tmpl(queue.EnqueueRequest{TemplateID: "a1", Inputs: numberedInputs(core.MaxDispatchInputs - len(tmplA.Inputs) + 1)}), "inputs", nil},
			{"more inputs than GitHub accepts on a manual job", tmpl(queue.EnqueueRequest{Owner: "o", Repo: "r", WorkflowID: "w", Ref: "main", Inputs: numberedInputs(core.MaxDispatchInputs + 1)}), "inputs", nil},
			{"inputs larger than GitHub accepts", tmpl(queue.EnqueueRequest{TemplateID: "a1", Inputs: map[string]string{"big": strings.Repeat("x", core.MaxDispatchInputsChars)}}), "inputs", nil},
			{"unknown position", tmpl(queue.EnqueueRequest{TemplateID: "a1", Position: "middle"}), "position", nil},
			{"before a non-number", tmpl(queue.EnqueueRequest{TemplateID: "a1", Position: "before:abc"}), "position", nil},
			{"before a job of another group", tmpl(queue.EnqueueRequest{TemplateID: "a1", Position: fmt.Sprintf("before:%d", other.ID)}), "position", nil},
			{"before a dispatching job", tmpl(queue.EnqueueRequest{TemplateID: "a1", Position: fmt.Sprintf("before:%d", busy.ID)}), "position", nil},
			{"before a missing job", tmpl(queue.EnqueueRequest{TemplateID: "a1", Position: "before:999999"}), "position", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Enqueue(ctx, c.req)
				var ve *queue.ValidationError
				switch {
				case c.field != "":
					if !errors.As(err, &ve) || ve.Field != c.field {
						t.Fatalf("err = %v, want a validation error on %s", err, c.field)
					}
				case !errors.Is(err, c.is) || errors.As(err, &ve):
					t.Fatalf("err = %v, want %v", err, c.is)
				}
			})
		}
		if got := f.pending(t, "alpha"); len(got) != 0 {
			t.Fatalf("refused enqueues added jobs: %v", got)
		}
		if ev := f.events.take(); len(ev) != 0 {
			t.Fatalf("refused enqueues emitted %v", ev)
		}
	})
}

func TestNewRequiresAStoreAndNilEventsAreSafe(t *testing.T) {
	if _, err := queue.New(queue.Options{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
	s := storetest.SQLite(t)
	if _, err := s.SyncConfig(context.Background(), []core.Group{groupA}, []core.Template{tmplA}); err != nil {
		t.Fatal(err)
	}
	svc, err := queue.New(queue.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	j, err := svc.Enqueue(context.Background(), queue.EnqueueRequest{GroupID: "alpha", TemplateID: "a1", Source: core.JobSourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Cancel(context.Background(), j.ID, "me"); err != nil {
		t.Fatal(err)
	}
}

// numberedInputs returns n distinct inputs.
func numberedInputs(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("in%d", i)] = "v"
	}
	return m
}
