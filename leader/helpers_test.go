package leader

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/rs/zerolog"

	"github.com/ethpandaops/dispatchoor/config"
)

// The test binary doubles as a separate replica process, so that "the
// leader's process dies" is a real SIGKILL rather than a simulation.
const helperEnv = "DISPATCHOOR_LEADER_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "postgres":
		os.Exit(helperPostgres())
	case "sqlite":
		os.Exit(helperSQLite())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode")
		os.Exit(2)
	}
}

// helperPostgres leads (or waits to lead) and says so on stdout.
func helperPostgres() int {
	l, err := New(Options{Driver: config.DriverPostgres, DSN: os.Getenv("HELPER_DSN"), ReplicaID: "child"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = l.Run(context.Background(), func(ctx context.Context) {
		fmt.Println("LEADING")
		<-ctx.Done()
	})
	return 0
}

// helperSQLite holds the lock file until its stdin closes.
func helperSQLite() int {
	l, err := New(Options{Driver: config.DriverSQLite, SQLitePath: os.Getenv("HELPER_DB")})
	if err != nil {
		fmt.Println("REFUSED:", err)
		return 3
	}
	defer l.Close()
	fmt.Println("LOCKED")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startHelper runs the test binary in helper mode and waits for want on
// its stdout.
func startHelper(t *testing.T, mode, want string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, want) {
			t.Fatalf("helper said %q, want %q", line, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("helper did not say %q", want)
	}
	return cmd
}

// replica is one in-process Leader with a record of what happened to it.
type replica struct {
	l      *Leader
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	acquired  []time.Time // OnChange(true)
	lost      []time.Time // OnChange(false)
	ctxEnded  []time.Time // the leader context was seen cancelled
	fnReturns []time.Time // fn returned
	causes    []error
}

func (r *replica) snapshot() (acquired, lost, ended, returned []time.Time, causes []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.acquired...), append([]time.Time(nil), r.lost...),
		append([]time.Time(nil), r.ctxEnded...), append([]time.Time(nil), r.fnReturns...), append([]error(nil), r.causes...)
}

// startReplica builds a Leader on dsn and runs it until the test ends.
func startReplica(t *testing.T, id, dsn string, tweak func(*Options)) *replica {
	t.Helper()
	r := &replica{done: make(chan struct{})}
	opts := Options{
		Driver: config.DriverPostgres, DSN: dsn, ReplicaID: id,
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		OnChange: func(leading bool) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if leading {
				r.acquired = append(r.acquired, time.Now())
			} else {
				r.lost = append(r.lost, time.Now())
			}
		},
	}
	if tweak != nil {
		tweak(&opts)
	}
	l, err := New(opts)
	if err != nil {
		t.Fatalf("new leader %s: %v", id, err)
	}
	r.l = l
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := l.Run(ctx, func(lctx context.Context) {
			<-lctx.Done()
			r.mu.Lock()
			r.ctxEnded = append(r.ctxEnded, time.Now())
			r.causes = append(r.causes, context.Cause(lctx))
			r.mu.Unlock()
			// A dispatcher takes a moment to wind down; the lock must
			// outlive this.
			time.Sleep(50 * time.Millisecond)
			r.mu.Lock()
			r.fnReturns = append(r.fnReturns, time.Now())
			r.mu.Unlock()
		}); err != nil {
			t.Errorf("run %s: %v", id, err)
		}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// firstAcquired waits for this replica to lead and returns when it began:
// the OnChange record, which lands just after IsLeader turns true.
func (r *replica) firstAcquired(t *testing.T, within time.Duration) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, r.l.ReplicaID()+" leads", within, func() bool {
		acq, _, _, _, _ := r.snapshot()
		if len(acq) > 0 {
			at = acq[0]
		}
		return len(acq) > 0
	})
	return at
}

func (r *replica) stop(t *testing.T) {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Errorf("replica %s did not stop", r.l.ReplicaID())
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// lockHolders lists the backends holding key; PostgreSQL shows a bigint
// advisory key as classid (high half) and objid (low half), objsubid 1.
func lockHolders(t *testing.T, db *sqlx.DB, key int64) []int {
	t.Helper()
	var pids []int
	err := db.Select(&pids, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1`,
		int64(uint32(uint64(key)>>32)), int64(uint32(uint64(key))))
	if err != nil {
		t.Fatalf("read pg_locks: %v", err)
	}
	return pids
}
