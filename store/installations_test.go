package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/store"
	"github.com/ethpandaops/dispatchoor/store/storetest"
)

func TestInstallationForRepo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type lookup struct {
		owner, repo string
		wantID      int64
		wantErr     error
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, s *store.Store)
		checks []lookup
	}{
		{
			name: "selection all covers every repository of the owner, case-insensitively",
			setup: func(t *testing.T, s *store.Store) {
				mustInstall(t, s, store.Installation{ID: 1, AccountLogin: "Acme", RepositorySelection: "all"})
			},
			checks: []lookup{{"acme", "anything", 1, nil}, {"ACME", "Other", 1, nil}, {"umbrella", "x", 0, store.ErrNotFound}},
		},
		{
			name: "selected repositories cover only the listed ones",
			setup: func(t *testing.T, s *store.Store) {
				mustInstall(t, s, store.Installation{ID: 2, AccountLogin: "acme", RepositorySelection: "selected"})
				if err := s.AddInstallationRepos(ctx, 2, []store.RepoRef{{Owner: "acme", Repo: "App"}, {Owner: "acme", Repo: "lib"}, {Owner: "acme", Repo: "app"}}); err != nil {
					t.Fatal(err)
				}
			},
			checks: []lookup{{"acme", "app", 2, nil}, {"Acme", "LIB", 2, nil}, {"acme", "secret", 0, store.ErrNotFound}},
		},
		{
			name: "a removed repository is no longer covered",
			setup: func(t *testing.T, s *store.Store) {
				mustInstall(t, s, store.Installation{ID: 3, AccountLogin: "acme", RepositorySelection: "selected"})
				if err := s.AddInstallationRepos(ctx, 3, []store.RepoRef{{Owner: "acme", Repo: "app"}, {Owner: "acme", Repo: "lib"}}); err != nil {
					t.Fatal(err)
				}
				if err := s.RemoveInstallationRepos(ctx, 3, []store.RepoRef{{Owner: "ACME", Repo: "App"}}); err != nil {
					t.Fatal(err)
				}
			},
			checks: []lookup{{"acme", "app", 0, store.ErrNotFound}, {"acme", "lib", 3, nil}},
		},
		{
			name: "a suspended installation stops dispatching until unsuspended",
			setup: func(t *testing.T, s *store.Store) {
				mustInstall(t, s, store.Installation{ID: 4, AccountLogin: "acme"})
				at := time.Now()
				if err := s.SetInstallationSuspended(ctx, 4, &at); err != nil {
					t.Fatal(err)
				}
			},
			checks: []lookup{{"acme", "app", 0, store.ErrInstallationSuspended}},
		},
		{
			name: "a deleted installation is gone; a new installation on the owner is found",
			setup: func(t *testing.T, s *store.Store) {
				mustInstall(t, s, store.Installation{ID: 5, AccountLogin: "acme", RepositorySelection: "selected"})
				if err := s.AddInstallationRepos(ctx, 5, []store.RepoRef{{Owner: "acme", Repo: "app"}}); err != nil {
					t.Fatal(err)
				}
				mustInstall(t, s, store.Installation{ID: 6, AccountLogin: "octo", AccountType: "User"})
				if err := s.DeleteInstallation(ctx, 5); err != nil {
					t.Fatal(err)
				}
			},
			checks: []lookup{{"acme", "app", 0, store.ErrNotFound}, {"octo", "dotfiles", 6, nil}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				tc.setup(t, s)
				for _, c := range tc.checks {
					in, err := s.InstallationForRepo(ctx, c.owner, c.repo)
					if c.wantErr != nil {
						if !errors.Is(err, c.wantErr) {
							t.Fatalf("%s/%s: err=%v, want %v", c.owner, c.repo, err, c.wantErr)
						}
						continue
					}
					if err != nil || in.ID != c.wantID || !in.Active() {
						t.Fatalf("%s/%s: %+v err=%v, want active installation %d", c.owner, c.repo, in, err, c.wantID)
					}
				}
			})
		})
	}
}

func TestInstallationLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		mustInstall(t, s, store.Installation{ID: 1, AccountLogin: "acme", RepositorySelection: "selected"})
		if err := s.AddInstallationRepos(ctx, 1, []store.RepoRef{{Owner: "acme", Repo: "b"}, {Owner: "acme", Repo: "a"}}); err != nil {
			t.Fatal(err)
		}
		repos, err := s.ListInstallationRepos(ctx, 1)
		if err != nil || !slices.Equal(repos, []store.RepoRef{{Owner: "acme", Repo: "a"}, {Owner: "acme", Repo: "b"}}) {
			t.Fatalf("repos = %v err=%v", repos, err)
		}
		if err := s.SetInstallationSuspended(ctx, 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InstallationForOwner(ctx, "acme"); err != nil {
			t.Fatalf("unsuspended installation: %v", err)
		}
		if err := s.DeleteInstallation(ctx, 1); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListInstallations(ctx)
		if err != nil || len(all) != 1 || !all[0].Deleted || all[0].Active() {
			t.Fatalf("installations after delete = %+v err=%v, want one flagged deleted", all, err)
		}
		if repos, _ := s.ListInstallationRepos(ctx, 1); len(repos) != 0 {
			t.Fatalf("deleted installation kept repos %v", repos)
		}
		// The same installation described again (e.g. by the reconciler) is live.
		mustInstall(t, s, store.Installation{ID: 1, AccountLogin: "acme"})
		if _, err := s.InstallationForOwner(ctx, "acme"); err != nil {
			t.Fatalf("re-stored installation: %v", err)
		}

		for name, err := range map[string]error{
			"suspend unknown":              s.SetInstallationSuspended(ctx, 99, nil),
			"delete unknown":               s.DeleteInstallation(ctx, 99),
			"bad selection":                s.UpsertInstallation(ctx, store.Installation{ID: 2, AccountLogin: "x", RepositorySelection: "some"}),
			"missing login":                s.UpsertInstallation(ctx, store.Installation{ID: 2}),
			"repository name with a slash": s.AddInstallationRepos(ctx, 1, []store.RepoRef{{Owner: "acme", Repo: "a/b"}}),
		} {
			if err == nil {
				t.Fatalf("%s: accepted, want an error", name)
			}
		}
	})
}

func mustInstall(t *testing.T, s *store.Store, in store.Installation) {
	t.Helper()
	if err := s.UpsertInstallation(context.Background(), in); err != nil {
		t.Fatalf("install %d: %v", in.ID, err)
	}
}
