package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
	_ "github.com/lib/pq"           // the floor's PostgreSQL
	_ "github.com/mattn/go-sqlite3" // the floor's SQLite
)

// The floor is the least a webhook receiver can do on the same machine and
// database: verify the signature, insert one row and select it back, and
// (for the reaction scenario) send the next dispatch to GitHub. The reaction
// and ingest scenarios run the same load against it in the same run and
// report dispatchoor's figures as a ratio to it, so they carry across
// machines: a slower machine slows both.
//
// It runs as a subprocess of the bench binary itself (flag -floor-serve), as
// dispatchoor does, so both compete for the same cores the same way.

type floorFlags struct {
	serve                       bool
	listen, driver, dsn, secret string
	api, key, repo              string
	appID                       int64
}

func registerFloorFlags(fs *flag.FlagSet) *floorFlags {
	f := &floorFlags{}
	fs.BoolVar(&f.serve, "floor-serve", false, "internal: run the floor server (see floor.go)")
	fs.StringVar(&f.listen, "floor-listen", "", "internal: floor server address")
	fs.StringVar(&f.driver, "floor-driver", "sqlite3", "internal: floor database driver")
	fs.StringVar(&f.dsn, "floor-dsn", "", "internal: floor database")
	fs.StringVar(&f.secret, "floor-secret", "", "internal: webhook secret")
	fs.StringVar(&f.api, "floor-api", "", "internal: GitHub API URL to dispatch to (reaction); empty dispatches nothing")
	fs.StringVar(&f.key, "floor-key", "", "internal: App private key file")
	fs.StringVar(&f.repo, "floor-repo", benchRepo, "internal: repository of the workflows")
	fs.Int64Var(&f.appID, "floor-app-id", 0, "internal: App id")
	return f
}

// serveFloor runs the floor server until killed.
func serveFloor(f *floorFlags) error {
	db, err := sql.Open(f.driver, f.dsn)
	if err != nil {
		return fmt.Errorf("floor database: %w", err)
	}
	if f.driver == "sqlite3" {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
	}
	ddl := `CREATE TABLE IF NOT EXISTS floor_deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, received_at TIMESTAMP NOT NULL)`
	if _, err := db.Exec(ddl); err != nil {
		return fmt.Errorf("floor table: %w", err)
	}
	insert, sel := `INSERT INTO floor_deliveries (id, event, received_at) VALUES (?, ?, ?)`, `SELECT event FROM floor_deliveries WHERE id = ?`
	if f.driver == "postgres" {
		insert, sel = `INSERT INTO floor_deliveries (id, event, received_at) VALUES ($1, $2, $3)`, `SELECT event FROM floor_deliveries WHERE id = $1`
	}
	d := &floorDispatcher{f: f, tokens: map[string]string{}, client: &http.Client{Timeout: 30 * time.Second}}
	if f.api != "" {
		if d.key, err = os.ReadFile(f.key); err != nil {
			return fmt.Errorf("floor app key: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/github/hook", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 25<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, []byte(f.secret))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Hub-Signature-256"))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id, event := r.Header.Get("X-GitHub-Delivery"), r.Header.Get("X-GitHub-Event")
		if _, err := db.ExecContext(r.Context(), insert, id, event, time.Now().UTC()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var got string
		if err := db.QueryRowContext(r.Context(), sel, id).Scan(&got); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if event == "workflow_job" && f.api != "" {
			if err := d.onJob(r.Context(), body); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /kick/{org}/{group}", func(w http.ResponseWriter, r *http.Request) {
		if err := d.dispatch(r.Context(), r.PathValue("org"), r.PathValue("group")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	srv := &http.Server{Addr: f.listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// floorDispatcher sends the next dispatch when a runner goes idle, with an
// installation token per org, as any GitHub App must.
type floorDispatcher struct {
	f      *floorFlags
	key    []byte
	client *http.Client
	mu     sync.Mutex
	tokens map[string]string
}

func (d *floorDispatcher) onJob(ctx context.Context, body []byte) error {
	var p struct {
		Action string `json:"action"`
		Job    struct {
			Runner string `json:"runner_name"`
		} `json:"workflow_job"`
		Repo struct {
			Owner struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("decode workflow_job: %w", err)
	}
	if p.Action != "completed" {
		return nil
	}
	group, _, _ := strings.Cut(p.Job.Runner, "-")
	return d.dispatch(ctx, p.Repo.Owner.Login, group)
}

func (d *floorDispatcher) dispatch(ctx context.Context, org, group string) error {
	tok, err := d.token(ctx, org)
	if err != nil {
		return err
	}
	body := `{"ref":"main","inputs":{"dispatchoor_job_id":""},"return_run_details":true}`
	url := fmt.Sprintf("%srepos/%s/%s/actions/workflows/%s.yml/dispatches", d.f.api, org, d.f.repo, group)
	code, _, err := d.do(ctx, http.MethodPost, url, "token "+tok, []byte(body))
	if err != nil || code/100 != 2 {
		return fmt.Errorf("dispatch %s: %d %v", url, code, err)
	}
	return nil
}

func (d *floorDispatcher) token(ctx context.Context, org string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.tokens[org]; ok {
		return t, nil
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(d.key)
	if err != nil {
		return "", fmt.Errorf("app key: %w", err)
	}
	now := time.Now()
	appJWT, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: strconv.FormatInt(d.f.appID, 10), IssuedAt: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign app jwt: %w", err)
	}
	code, b, err := d.do(ctx, http.MethodGet, d.f.api+"orgs/"+org+"/installation", "Bearer "+appJWT, nil)
	if err != nil || code != http.StatusOK {
		return "", fmt.Errorf("installation of %s: %d %v", org, code, err)
	}
	var in struct{ ID int64 }
	if err := json.Unmarshal(b, &in); err != nil {
		return "", fmt.Errorf("decode installation: %w", err)
	}
	code, b, err = d.do(ctx, http.MethodPost, fmt.Sprintf("%sapp/installations/%d/access_tokens", d.f.api, in.ID), "Bearer "+appJWT, nil)
	if err != nil || code != http.StatusCreated {
		return "", fmt.Errorf("token of %s: %d %v", org, code, err)
	}
	var t struct{ Token string }
	if err := json.Unmarshal(b, &t); err != nil {
		return "", fmt.Errorf("decode token: %w", err)
	}
	d.tokens[org] = t.Token
	return t.Token, nil
}

func (d *floorDispatcher) do(ctx context.Context, method, url, auth string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/vnd.github+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// floorServer is the floor running as a subprocess.
type floorServer struct {
	url string
	cmd *exec.Cmd
}

// startFloor starts the floor on b's database. With dispatch set it sends
// dispatches to w's simulator as the App.
func startFloor(ctx context.Context, e env, w *world, b backend, dir string, dispatch bool) (*floorServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("floor folder: %w", err)
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	driver, dsn := "sqlite3", filepath.Join(dir, "floor.db")+"?_journal_mode=WAL&_busy_timeout=5000&_synchronous=NORMAL"
	if b.DSN != "" {
		driver, dsn = "postgres", b.DSN
	}
	args := []string{"-floor-serve", "-floor-listen", listen, "-floor-driver", driver, "-floor-dsn", dsn, "-floor-secret", hookSecret}
	if dispatch {
		keyPath := filepath.Join(dir, "app.pem")
		if err := os.WriteFile(keyPath, w.sim.PrivateKeyPEM(), 0o600); err != nil {
			return nil, fmt.Errorf("floor app key: %w", err)
		}
		args = append(args, "-floor-api", w.sim.APIURL(), "-floor-key", keyPath, "-floor-app-id", strconv.FormatInt(w.sim.AppID(), 10))
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the bench binary: %w", err)
	}
	cmd := exec.Command(self, args...)
	logf, err := os.Create(filepath.Join(dir, "floor.log"))
	if err != nil {
		return nil, fmt.Errorf("floor log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the floor: %w", err)
	}
	fs := &floorServer{url: "http://" + listen, cmd: cmd}
	up := waitFor(ctx, 30*time.Second, 20*time.Millisecond, func() bool {
		c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if !up {
		fs.stop()
		return nil, errors.New("the floor server did not come up (log " + logf.Name() + ")")
	}
	return fs, nil
}

func (f *floorServer) stop() {
	_ = f.cmd.Process.Kill()
	_ = f.cmd.Wait()
}
