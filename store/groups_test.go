package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/ethpandaops/dispatchoor/core"
	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestSyncConfigDisablesRemovedGroupsAndKeepsRuntimeState(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		if changed, err := s.SetGroupPaused(ctx, "alpha", true); err != nil || !changed {
			t.Fatalf("pause alpha: changed=%v err=%v", changed, err)
		}
		if err := s.SetTemplateLabelMismatch(ctx, "a1", "gpu"); err != nil {
			t.Fatal(err)
		}
		job := insert(t, s, manualJob("beta"), store.Placement{})

		renamed := groupA
		renamed.Name, renamed.MaxConcurrent, renamed.RunnerLabels = "Alpha 2", 7, []string{"x"}
		tmpl := tmplA1
		tmpl.Ref = "release"
		res, err := s.SyncConfig(ctx, []core.Group{renamed}, []core.Template{tmpl})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.DisabledGroups, []string{"beta"}) || !reflect.DeepEqual(res.RemovedTemplates, []string{"b1"}) {
			t.Fatalf("sync result = %+v, want beta disabled and b1 removed", res)
		}

		a, err := s.GetGroup(ctx, "alpha")
		if err != nil {
			t.Fatal(err)
		}
		want := core.Group{ID: "alpha", Name: "Alpha 2", RunnerLabels: []string{"x"}, RunnerScope: "org:o", MaxConcurrent: 7, Paused: true, Enabled: true}
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("alpha after sync = %+v, want %+v (paused kept, config fields updated)", a, want)
		}
		b, err := s.GetGroup(ctx, "beta")
		if err != nil {
			t.Fatal(err)
		}
		if b.Enabled {
			t.Fatal("beta left the config but is still enabled")
		}
		if got, err := s.ClaimNextPending(ctx, "beta", 5, func() string { return "x" }); err != nil || len(got) != 0 {
			t.Fatalf("claim in disabled group = %d jobs, %v; want none", len(got), err)
		}
		if j, err := s.GetJob(ctx, job.ID); err != nil || j.GroupID != "beta" {
			t.Fatalf("job of disabled group: %+v %v; want it kept", j, err)
		}
		if _, err := s.GetTemplate(ctx, "b1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removed template b1: err = %v, want ErrNotFound", err)
		}
		got, err := s.GetTemplate(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Ref != "release" || got.LabelMismatch != "gpu" {
			t.Fatalf("a1 after sync: ref %q mismatch %q; want config ref and kept mismatch", got.Ref, got.LabelMismatch)
		}

		// The group comes back: enabled again, still paused.
		if _, err := s.SyncConfig(ctx, []core.Group{renamed, groupB}, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.GetGroup(ctx, "beta"); !b.Enabled {
			t.Fatal("beta is back in the config but still disabled")
		}
		if tl, _ := s.ListTemplates(ctx, ""); len(tl) != 0 {
			t.Fatalf("templates after syncing none: %d, want 0", len(tl))
		}
	})
}

func TestSyncConfigRefusesTemplateOfUnknownGroupAndChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		orphan := tmplA1
		orphan.ID, orphan.GroupID = "orphan", "gamma"
		if _, err := s.SyncConfig(ctx, []core.Group{groupA}, []core.Template{orphan}); err == nil {
			t.Fatal("sync with a template of an unknown group succeeded")
		}
		if b, _ := s.GetGroup(ctx, "beta"); !b.Enabled {
			t.Fatal("failed sync was not rolled back: beta disabled")
		}
	})
}

func TestTemplatesRoundTripAndListByGroup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		got, err := s.GetTemplate(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tmplA1) {
			t.Fatalf("template round trip:\n got %+v\nwant %+v", got, tmplA1)
		}
		for group, want := range map[string][]string{"alpha": {"a1"}, "beta": {"b1"}, "": {"a1", "b1"}, "none": nil} {
			ts, err := s.ListTemplates(ctx, group)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tt := range ts {
				ids = append(ids, tt.ID)
			}
			if !reflect.DeepEqual(ids, want) {
				t.Errorf("templates of %q = %v, want %v", group, ids, want)
			}
		}
		if err := s.SetTemplateLabelMismatch(ctx, "nope", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("mismatch on unknown template: %v, want ErrNotFound", err)
		}
	})
}

func TestSetGroupPausedReportsChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		for _, c := range []struct {
			name   string
			paused bool
			want   bool
		}{
			{"pausing a running group changes it", true, true},
			{"pausing again changes nothing", true, false},
			{"unpausing changes it", false, true},
			{"unpausing again changes nothing", false, false},
		} {
			changed, err := s.SetGroupPaused(ctx, "alpha", c.paused)
			if err != nil || changed != c.want {
				t.Fatalf("%s: changed=%v err=%v", c.name, changed, err)
			}
		}
		if _, err := s.SetGroupPaused(ctx, "nope", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("pause unknown group: %v, want ErrNotFound", err)
		}
		gs, err := s.ListGroups(ctx)
		if err != nil || len(gs) != 2 || gs[0].ID != "alpha" || gs[1].ID != "beta" {
			t.Fatalf("list groups = %+v, %v", gs, err)
		}
	})
}
