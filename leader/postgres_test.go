package leader

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ethpandaops/dispatchoor/store/storetest"
	"github.com/ethpandaops/dispatchoor/tools/netproxy"
)

// takeoverBudget is docs/ARCHITECTURE.md's (Scale-out) promise: another replica leads within
// 5 s of the leader dying or losing its connection.
const takeoverBudget = 5 * time.Second

// settle waits long enough for a follower to have tried the lock, plus a
// random part so the kill lands anywhere in the follower's retry cycle and
// the measured takeover is not an artefact of the test's own timing.
func settle() {
	time.Sleep(time.Second + rand.N(time.Second))
}

func adminDB(t *testing.T, dsn string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestTwoReplicasExactlyOneLeads(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	db := adminDB(t, dsn)
	a := startReplica(t, "a", dsn, nil)
	b := startReplica(t, "b", dsn, nil)

	waitFor(t, "a leader", takeoverBudget, func() bool { return a.l.IsLeader() || b.l.IsLeader() })
	// Sample for a while: never both, and always one once elected.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		la, lb := a.l.IsLeader(), b.l.IsLeader()
		if la == lb {
			t.Fatalf("leading: a=%v b=%v, want exactly one", la, lb)
		}
		time.Sleep(time.Millisecond)
	}
	if got := lockHolders(t, db, DefaultLockKey); len(got) != 1 {
		t.Fatalf("advisory lock holders = %v, want exactly one backend", got)
	}
	leader := a
	if b.l.IsLeader() {
		leader = b
	}
	if since := leader.l.LeaderSince(); since.IsZero() || time.Since(since) < 3*time.Second {
		t.Fatalf("LeaderSince = %v, want a time before the 3 s sample", since)
	}
	follower := a
	if leader == a {
		follower = b
	}
	if !follower.l.LeaderSince().IsZero() {
		t.Fatalf("follower LeaderSince = %v, want zero", follower.l.LeaderSince())
	}
}

func TestTakeover(t *testing.T) {
	t.Run("leader backend terminated: old leader stops first, other leads within 5s", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		db := adminDB(t, dsn)
		a := startReplica(t, "a", dsn, nil)
		waitFor(t, "a leads", takeoverBudget, a.l.IsLeader)
		b := startReplica(t, "b", dsn, nil)
		settle() // b tries and fails at least once
		if b.l.IsLeader() {
			t.Fatal("b leads while a holds the lock")
		}
		pids := lockHolders(t, db, DefaultLockKey)
		if len(pids) != 1 {
			t.Fatalf("lock holders = %v, want one", pids)
		}
		killed := time.Now()
		if _, err := db.Exec("SELECT pg_terminate_backend($1)", pids[0]); err != nil {
			t.Fatalf("terminate leader backend: %v", err)
		}
		bAcq := b.firstAcquired(t, takeoverBudget)
		takeover := bAcq.Sub(killed)
		t.Logf("takeover after pg_terminate_backend: %s", takeover)
		if takeover > takeoverBudget {
			t.Fatalf("takeover took %s, want under %s", takeover, takeoverBudget)
		}
		_, aLost, aEnded, _, causes := a.snapshot()
		if len(aLost) == 0 || len(aEnded) == 0 {
			t.Fatalf("a's leader context was not cancelled (lost=%v ended=%v)", aLost, aEnded)
		}
		if aLost[0].After(bAcq) {
			t.Fatalf("a stepped down at %s, after b acquired at %s", aLost[0].Format(time.StampMicro), bAcq.Format(time.StampMicro))
		}
		t.Logf("a stepped down %s after the kill, %s before b acquired", aLost[0].Sub(killed), bAcq.Sub(aLost[0]))
		if causes[0] == nil || errors.Is(causes[0], context.Canceled) {
			t.Fatalf("cause = %v, want the lost connection", causes[0])
		}
		// a reconnects and follows.
		waitFor(t, "one holder again", takeoverBudget, func() bool { return len(lockHolders(t, db, DefaultLockKey)) == 1 })
		time.Sleep(1500 * time.Millisecond)
		if a.l.IsLeader() {
			t.Fatal("a leads again while b holds the lock")
		}
	})

	t.Run("leader shut down: lock released after its work returned, other leads within 5s", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		a := startReplica(t, "a", dsn, nil)
		waitFor(t, "a leads", takeoverBudget, a.l.IsLeader)
		b := startReplica(t, "b", dsn, nil)
		settle()
		stopped := time.Now()
		a.stop(t)
		bAcq := b.firstAcquired(t, takeoverBudget)
		_, _, _, aReturned, _ := a.snapshot()
		t.Logf("takeover after graceful shutdown: %s", bAcq.Sub(stopped))
		if bAcq.Sub(stopped) > takeoverBudget {
			t.Fatalf("takeover took %s", bAcq.Sub(stopped))
		}
		if len(aReturned) != 1 || aReturned[0].After(bAcq) {
			t.Fatalf("a's work returned at %v, b acquired at %s: the lock was released too early", aReturned, bAcq)
		}
	})

	t.Run("leader process killed with SIGKILL: other leads within 5s", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		child := startHelper(t, "postgres", "LEADING", "HELPER_DSN="+dsn)
		b := startReplica(t, "b", dsn, nil)
		settle()
		if b.l.IsLeader() {
			t.Fatal("b leads while the child process holds the lock")
		}
		killed := time.Now()
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill child: %v", err)
		}
		bAcq := b.firstAcquired(t, takeoverBudget)
		t.Logf("takeover after SIGKILL of the leader process: %s", bAcq.Sub(killed))
	})
}

// A leader cut off by the network cannot be told it lost anything; its
// lease must run out before PostgreSQL ends its session and frees the lock.
func TestPartitionedLeaderStepsDownBeforeTakeover(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := netproxy.New(t, u.Host)
	u.Host = p.Addr()
	a := startReplica(t, "a", u.String(), nil)
	waitFor(t, "a leads", takeoverBudget, a.l.IsLeader)
	b := startReplica(t, "b", dsn, nil)
	settle()

	cut := time.Now()
	p.Freeze()
	bAcq := b.firstAcquired(t, takeoverBudget+time.Second)
	_, aLost, aEnded, aReturned, causes := a.snapshot()
	if len(aLost) == 0 || len(aEnded) == 0 {
		t.Fatal("a never stepped down")
	}
	t.Logf("partition: a stepped down after %s, b led after %s (margin %s), cause: %v",
		aLost[0].Sub(cut), bAcq.Sub(cut), bAcq.Sub(aLost[0]), causes[0])
	if len(aReturned) == 0 || !aLost[0].Before(bAcq) || !aReturned[0].Before(bAcq) {
		t.Fatalf("a stepped down at +%s (work returned %v), b acquired at +%s: overlap",
			aLost[0].Sub(cut), aReturned, bAcq.Sub(cut))
	}
	if !errors.Is(causes[0], errLeaseExpired) {
		t.Fatalf("cause = %v, want the lease to expire", causes[0])
	}
	if bAcq.Sub(cut) > takeoverBudget {
		t.Fatalf("takeover after a partition took %s, want under %s", bAcq.Sub(cut), takeoverBudget)
	}
}

func TestRunLeadsAgainWhenWorkReturnsEarly(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	l, err := New(Options{Driver: "postgres", DSN: dsn, RetryInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := 0
	err = l.Run(ctx, func(context.Context) {
		calls++
		if calls == 2 {
			cancel()
		}
	})
	if err != nil || calls != 2 {
		t.Fatalf("Run = %v after %d calls, want nil after 2 (re-elected after returning early)", err, calls)
	}
	if l.IsLeader() {
		t.Fatal("IsLeader after Run returned")
	}
}
