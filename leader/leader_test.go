package leader

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethpandaops/dispatchoor/config"
)

func TestNewRefusesUnsafeOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"unknown driver", Options{Driver: "mysql"}, "unknown driver"},
		{"postgres without dsn", Options{Driver: config.DriverPostgres}, "DSN is required"},
		{"sqlite without path", Options{Driver: config.DriverSQLite}, "path is required"},
		{"lease not longer than health interval", Options{Driver: config.DriverPostgres, DSN: "x",
			HealthInterval: 2 * time.Second, LeaseTimeout: 2 * time.Second}, "must be shorter than the lease"},
		{"session timeout not longer than lease: a cut-off leader would outlive its lock", Options{Driver: config.DriverPostgres, DSN: "x",
			LeaseTimeout: 3 * time.Second, SessionTimeout: 3 * time.Second}, "outlive its lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSQLiteServesOneReplica(t *testing.T) {
	t.Run("second instance in this process is refused with a clear message", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "d.db")
		first, err := New(Options{Driver: config.DriverSQLite, SQLitePath: db})
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		_, err = New(Options{Driver: config.DriverSQLite, SQLitePath: db})
		if !errors.Is(err, ErrAnotherReplica) {
			t.Fatalf("second New = %v, want ErrAnotherReplica", err)
		}
		for _, want := range []string{"another dispatchoor", "is using " + db, "SQLite serves one replica — use PostgreSQL for several"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := New(Options{Driver: config.DriverSQLite, SQLitePath: db})
		if err != nil {
			t.Fatalf("New after the first closed = %v, want success", err)
		}
		_ = again.Close()
	})

	t.Run("second process is refused and may start once the first dies", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "d.db")
		child := startHelper(t, "sqlite", "LOCKED", "HELPER_DB="+db)
		_, err := New(Options{Driver: config.DriverSQLite, SQLitePath: db})
		if !errors.Is(err, ErrAnotherReplica) || !strings.Contains(err.Error(), "use PostgreSQL for several") {
			t.Fatalf("New while another process holds the file = %v", err)
		}
		if !strings.Contains(err.Error(), "(pid ") {
			t.Errorf("message %q does not name the holder's pid", err)
		}
		_ = child.Process.Kill()
		_ = child.Wait()
		l, err := New(Options{Driver: config.DriverSQLite, SQLitePath: db})
		if err != nil {
			t.Fatalf("New after the holder was killed = %v, want success (the kernel drops the flock)", err)
		}
		_ = l.Close()
	})

	t.Run("the only replica leads until its context ends", func(t *testing.T) {
		var changes []bool
		l, err := New(Options{Driver: config.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "d.db"),
			OnChange: func(b bool) { changes = append(changes, b) }})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ctx, cancel := context.WithCancel(context.Background())
		var leadingInside bool
		err = l.Run(ctx, func(lctx context.Context) {
			leadingInside = l.IsLeader() && !l.LeaderSince().IsZero()
			cancel()
			<-lctx.Done()
		})
		if err != nil || !leadingInside {
			t.Fatalf("Run = %v, leading inside fn = %v", err, leadingInside)
		}
		if l.IsLeader() || len(changes) != 2 || !changes[0] || changes[1] {
			t.Fatalf("after Run: leading=%v changes=%v, want false and [true false]", l.IsLeader(), changes)
		}
	})
}

func TestRunTwiceAtOnceIsRefused(t *testing.T) {
	l, err := New(Options{Driver: config.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error)
	go func() { done <- l.Run(ctx, func(c context.Context) { close(started); <-c.Done() }) }()
	<-started
	if err := l.Run(ctx, func(context.Context) {}); err == nil {
		t.Fatal("second concurrent Run succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
