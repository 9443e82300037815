package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Spec names one of GitHub's REST descriptions shipped by @octokit/openapi.
type Spec string

const (
	// APIGitHubCom is github.com's REST API (generated/api.github.com.json).
	APIGitHubCom Spec = "api.github.com"
	// GHES319 is GitHub Enterprise Server 3.19 (generated/ghes-3.19.json),
	// which for instance knows no return_run_details on workflow dispatch.
	GHES319 Spec = "ghes-3.19"
)

// requestTimeout bounds one answer. The first request for a corpus loads and
// indexes it (about a second for a REST description) and compiles its schema;
// later ones answer in well under a millisecond.
const requestTimeout = 2 * time.Minute

// Mismatch is the error for a payload or response that GitHub's description
// refuses (including an undocumented path, method or status).
type Mismatch struct {
	// Subject says what was checked, e.g. "webhook workflow_job.queued" or
	// "api.github.com GET /orgs/o/actions/runners 200".
	Subject string
	// Problems are Ajv's findings, each "/json/pointer: message".
	Problems []string
}

func (m *Mismatch) Error() string {
	return m.Subject + " does not conform: " + strings.Join(m.Problems, "; ")
}

// Validator talks to one node validate.mjs process. It is safe for concurrent
// use; requests are answered in order by the single-threaded Node process.
type Validator struct {
	stdin  io.WriteCloser
	stderr *tail
	done   chan struct{} // closed when the process's stdout ends

	mu      sync.Mutex // guards the fields below and writes to stdin
	nextID  int64
	pending map[int64]chan reply
	readErr error
}

type reply struct {
	ID     *int64   `json:"id"`
	OK     bool     `json:"ok"`
	Errors []string `json:"errors"`
}

// New starts a validator process for this test; it is stopped by t.Cleanup.
// It fails the test if the corpora cannot be installed or Node cannot start.
func New(t testing.TB) *Validator {
	t.Helper()
	dir := Dir(t)
	cmd := exec.Command("node", "validate.mjs")
	cmd.Dir = dir
	v := &Validator{
		stderr:  &tail{max: 8 << 10},
		done:    make(chan struct{}),
		pending: make(map[int64]chan reply),
	}
	cmd.Stderr = v.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("conformance: validator stdin: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("conformance: validator stdout: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("conformance: start node validate.mjs in %s: %v", dir, err)
	}
	v.stdin = stdin
	go v.read(stdout)
	t.Cleanup(func() { v.stop(cmd) })
	if err := v.call(map[string]any{"kind": "ping"}, "ping"); err != nil {
		t.Fatalf("conformance: validator did not answer: %v", err)
	}
	return v
}

// Webhook checks a payload GitHub would deliver with X-GitHub-Event: event
// against the @octokit/webhooks-schemas definition for event and the
// payload's action. A refusal is a *Mismatch.
func (v *Validator) Webhook(event string, payload []byte) error {
	var head struct {
		Action *string `json:"action"`
	}
	subject := "webhook " + event
	if err := json.Unmarshal(payload, &head); err != nil {
		return &Mismatch{Subject: subject, Problems: []string{"payload is not a JSON object: " + err.Error()}}
	}
	if head.Action != nil {
		subject += "." + *head.Action
	}
	return v.call(map[string]any{"kind": "webhook", "event": event, "payload": json.RawMessage(payload)}, subject)
}

// REST checks a response GitHub would give to method path with status and
// body against the operation spec documents. path may be a full URL, carry a
// GHES /api/v3 prefix and a query string. An empty body means no content.
// A refusal is a *Mismatch.
func (v *Validator) REST(spec Spec, method, path string, status int, body []byte) error {
	p := restPath(path)
	subject := fmt.Sprintf("%s %s %s %d", spec, strings.ToUpper(method), p, status)
	req := map[string]any{"kind": "rest", "spec": string(spec), "method": method, "path": p, "status": status}
	if b := bytes.TrimSpace(body); len(b) > 0 {
		if !json.Valid(b) {
			return &Mismatch{Subject: subject, Problems: []string{"body is not valid JSON: " + clip(b, 80)}}
		}
		req["body"] = json.RawMessage(b)
	}
	return v.call(req, subject)
}

func (v *Validator) call(req map[string]any, subject string) error {
	ch := make(chan reply, 1)
	v.mu.Lock()
	if v.readErr != nil {
		err := v.readErr
		v.mu.Unlock()
		return err
	}
	v.nextID++
	id := v.nextID
	req["id"] = id
	line, err := json.Marshal(req)
	if err != nil {
		v.mu.Unlock()
		return fmt.Errorf("encode %s for the validator: %w", subject, err)
	}
	v.pending[id] = ch
	_, err = v.stdin.Write(append(line, '\n'))
	if err != nil {
		delete(v.pending, id)
		v.mu.Unlock()
		return fmt.Errorf("send %s to the validator: %w (stderr: %s)", subject, err, v.stderr)
	}
	v.mu.Unlock()

	timer := time.NewTimer(requestTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.OK {
			return nil
		}
		return &Mismatch{Subject: subject, Problems: r.Errors}
	case <-v.done:
		// The answer may have raced the end of stdout.
		select {
		case r := <-ch:
			if r.OK {
				return nil
			}
			return &Mismatch{Subject: subject, Problems: r.Errors}
		default:
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		return fmt.Errorf("check %s: %w", subject, v.readErr)
	case <-timer.C:
		return fmt.Errorf("check %s: no answer from the validator within %s (stderr: %s)", subject, requestTimeout, v.stderr)
	}
}

func (v *Validator) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var err error
	for sc.Scan() {
		var r reply
		if err = json.Unmarshal(sc.Bytes(), &r); err != nil || r.ID == nil {
			err = fmt.Errorf("validator wrote an unexpected line %q", clip(sc.Bytes(), 200))
			break
		}
		v.mu.Lock()
		ch, ok := v.pending[*r.ID]
		delete(v.pending, *r.ID)
		v.mu.Unlock()
		if ok {
			ch <- r
		}
	}
	if err == nil {
		err = sc.Err()
	}
	if err == nil {
		err = errors.New("validator exited")
	}
	v.mu.Lock()
	v.readErr = fmt.Errorf("%w (stderr: %s)", err, v.stderr)
	v.mu.Unlock()
	close(v.done)
}

// stop closes stdin, which makes validate.mjs exit once it has answered what
// it was sent; a process that does not is killed.
func (v *Validator) stop(cmd *exec.Cmd) {
	v.mu.Lock()
	_ = v.stdin.Close()
	v.mu.Unlock()
	select {
	case <-v.done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-v.done
	}
	_ = cmd.Wait()
}

// restPath reduces what a client saw (a full URL, a GHES /api/v3 base, a
// query string) to the path GitHub's description templates.
func restPath(raw string) string {
	p := raw
	for _, scheme := range []string{"http://", "https://"} {
		if len(p) >= len(scheme) && strings.EqualFold(p[:len(scheme)], scheme) {
			p = p[len(scheme):]
			if j := strings.IndexAny(p, "/?#"); j >= 0 && p[j] == '/' {
				p = p[j:]
			} else {
				p = "/"
			}
			break
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if rest, ok := strings.CutPrefix(p, "/api/v3"); ok && (rest == "" || rest[0] == '/') {
		p = rest
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	if p == "" {
		p = "/"
	}
	return p
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// tail keeps the last max bytes written to it: Node's stderr, for messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return "(empty)"
	}
	return strings.TrimSpace(string(w.buf))
}
