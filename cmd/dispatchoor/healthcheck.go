package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// defaultHealthURL is the readiness probe of a server on the default listen
// address (config server.listen ":9090").
const defaultHealthURL = "http://127.0.0.1:9090/readyz"

// runHealthcheck asks a running server whether it is healthy and exits 0 when
// it answers 2xx, 1 otherwise. It exists because the container image has no
// shell and no curl for a HEALTHCHECK to call.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defaultHealthURL, "probe to ask: /readyz (readiness) or /healthz (liveness)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: bad --url %q: %v\n", *url, err)
		return exitError{code: 2}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: GET %s: %v\n", *url, err)
		return exitError{code: 1}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	line := strings.TrimSpace(string(body))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "healthcheck: %s answered %d: %s\n", *url, resp.StatusCode, line)
		return exitError{code: 1}
	}
	fmt.Fprintf(stdout, "healthcheck: %s answered %d: %s\n", *url, resp.StatusCode, line)
	return nil
}
