package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// startPostgres starts a private, throw-away PostgreSQL under dir with
// scripts/pg.sh (as make test does) and returns its DSN and how to stop it.
// Every server gets its own, so no run sees another's rows.
func startPostgres(ctx context.Context, dir string) (string, func(), error) {
	script, err := filepath.Abs("scripts/pg.sh")
	if err != nil {
		return "", nil, fmt.Errorf("find scripts/pg.sh: %w", err)
	}
	out, err := exec.CommandContext(ctx, script, "start", dir).Output()
	if err != nil {
		return "", nil, fmt.Errorf("scripts/pg.sh start %s: %w", dir, err)
	}
	dsn := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(dsn, '\n'); i >= 0 {
		dsn = dsn[i+1:]
	}
	stop := func() {
		cmd := exec.Command(script, "stop", dir)
		cmd.Stderr = os.Stderr
		_ = cmd.Run()
	}
	return dsn, stop, nil
}

// backend is a database a scenario runs on.
type backend struct {
	Name string
	DSN  string
	stop func()
}

// backends starts what e asks for: SQLite always, PostgreSQL unless
// disabled. The caller calls release.
func backends(ctx context.Context, e env, name string) ([]backend, func(), error) {
	bs := []backend{{Name: "SQLite"}}
	release := func() {}
	if e.Postgres {
		dsn, stop, err := startPostgres(ctx, filepath.Join(e.Dir, name+"-pg"))
		if err != nil {
			return nil, release, err
		}
		bs = append(bs, backend{Name: "PostgreSQL", DSN: dsn, stop: stop})
		release = stop
	}
	return bs, release, nil
}
