package config

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestAllowsRepo(t *testing.T) {
	s := SlashCommands{Repos: []string{"my-org/*", "Other/Exact"}}
	tests := []struct {
		name        string
		owner, repo string
		want        bool
	}{
		{"glob matches any repo of the org", "my-org", "sync", true},
		{"matching ignores case", "MY-ORG", "Sync", true},
		{"exact pattern", "other", "exact", true},
		{"other repo of an exact pattern", "other", "exactly", false},
		{"star does not cross the slash", "my-org-evil", "x", false},
		{"unlisted owner", "someone", "sync", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.AllowsRepo(tt.owner, tt.repo); got != tt.want {
				t.Fatalf("AllowsRepo(%s/%s) = %v", tt.owner, tt.repo, got)
			}
		})
	}
}

func TestPermits(t *testing.T) {
	s := SlashCommands{MinPermission: "write"}
	for role, want := range map[string]bool{"read": false, "triage": false, "write": true, "maintain": true, "admin": true, "Admin": true, "none": false, "": false} {
		if got := s.Permits(role); got != want {
			t.Errorf("Permits(%q) with min write = %v, want %v", role, got, want)
		}
	}
}

func TestPostgresConnString(t *testing.T) {
	tests := []struct {
		name string
		p    Postgres
		want string
	}{
		{"dsn wins", Postgres{DSN: "host=db user=u"}, "host=db user=u"},
		{"parts are escaped", Postgres{Host: "db", Port: 5433, User: "app", Password: "p@ss/w:rd", Database: "dispatchoor", SSLMode: "disable"},
			"postgres://app:p%40ss%2Fw%3Ard@db:5433/dispatchoor?sslmode=disable"},
		{"no port, no password", Postgres{Host: "db", User: "app", Database: "d"}, "postgres://app@db/d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.ConnString(); got != tt.want {
				t.Fatalf("ConnString() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := (Database{Driver: DriverSQLite, SQLite: SQLite{Path: "x.db"}}).DSN(); got != "x.db" {
		t.Fatalf("sqlite DSN() = %q", got)
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	s := Server{TrustedProxies: []string{"10.1.2.3/8", "192.168.1.1", "fd00::1"}}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32"), netip.MustParsePrefix("fd00::1/128")}
	if got := s.TrustedProxyPrefixes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("prefixes = %v, want %v", got, want)
	}
}

func TestRoleAtLeast(t *testing.T) {
	tests := []struct {
		name        string
		role, level string
		want        bool
	}{
		{"same role", "write", "write", true},
		{"higher role", "admin", "maintain", true},
		{"lower role", "triage", "write", false},
		{"case is ignored on both sides", "MAINTAIN", "Write", true},
		{"none ranks below read", "none", "read", false},
		{"custom role never reaches", "release-manager", "read", false},
		{"unknown level is never reached", "admin", "owner", false},
		{"empty role", "", "read", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoleAtLeast(tt.role, tt.level); got != tt.want {
				t.Fatalf("RoleAtLeast(%q, %q) = %v, want %v", tt.role, tt.level, got, tt.want)
			}
		})
	}
}
