package gh_test

import (
	"net/http"
	"testing"

	"github.com/ethpandaops/dispatchoor/gh"
	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

func TestInstallationLookup(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := ctxT(t)
	w.sim.AddUser(ghsim.User{Login: "solo"})
	userInst, err := w.sim.AddInstallation(ghsim.Installation{Account: "solo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.AddRepo(ghsim.Repo{Owner: "solo", Name: "tools"}); err != nil {
		t.Fatal(err)
	}

	t.Run("organization", func(t *testing.T) {
		in, err := w.client.InstallationForOwner(ctx, "acme")
		if err != nil || in.ID != w.inst || in.Account != "acme" || in.AccountType != "Organization" {
			t.Fatalf("got %+v (err %v), want installation %d on org acme", in, err, w.inst)
		}
	})
	t.Run("user account", func(t *testing.T) {
		in, err := w.client.InstallationForOwner(ctx, "solo")
		if err != nil || in.ID != userInst {
			t.Fatalf("got %+v (err %v), want user installation %d", in, err, userInst)
		}
	})
	t.Run("repository", func(t *testing.T) {
		in, err := w.client.InstallationForRepo(ctx, "solo", "tools")
		if err != nil || in.ID != userInst {
			t.Fatalf("got %+v (err %v), want %d", in, err, userInst)
		}
	})
	t.Run("lookups are cached", func(t *testing.T) {
		before := len(w.sim.Requests(nil))
		for range 3 {
			if _, err := w.client.InstallationForOwner(ctx, "ACME"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.client.InstallationForRepo(ctx, "solo", "tools"); err != nil {
				t.Fatal(err)
			}
		}
		if after := len(w.sim.Requests(nil)); after != before {
			t.Errorf("cached lookups made %d requests", after-before)
		}
		w.client.ForgetInstallations()
		if _, err := w.client.InstallationForOwner(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		if after := len(w.sim.Requests(nil)); after != before+1 {
			t.Errorf("after ForgetInstallations want 1 request, got %d", after-before)
		}
	})
	t.Run("not installed is permanent", func(t *testing.T) {
		_, err := w.client.InstallationForOwner(ctx, "stranger")
		if !gh.IsPermanent(err) {
			t.Errorf("want a permanent 404, got %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		all, err := w.client.ListInstallations(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("got %+v (err %v), want 2 installations", all, err)
		}
	})
	t.Run("app-level calls use the App JWT", func(t *testing.T) {
		for _, r := range w.requests(http.MethodGet, "/installation") {
			if !r.AppJWT {
				t.Errorf("%s was not authenticated as the App", r)
			}
		}
	})
}

func TestInstallationLookupRefusesBadNames(t *testing.T) {
	w := newWorld(t, worldOpts{})
	before := len(w.sim.Requests(nil))
	if _, err := w.client.InstallationForOwner(ctxT(t), "acme/../x"); !gh.IsPermanent(err) {
		t.Errorf("owner with a slash: want a permanent error, got %v", err)
	}
	if _, err := w.client.InstallationForRepo(ctxT(t), "acme", ""); !gh.IsPermanent(err) {
		t.Errorf("empty repo: want a permanent error, got %v", err)
	}
	if n := len(w.sim.Requests(nil)) - before; n != 0 {
		t.Errorf("refused lookups still made %d requests", n)
	}
}
