package config

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
)

// refuseAll is a transport that never reaches the network.
type refuseAll struct{}

func (refuseAll) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("network disabled in fuzzing")
}

// FuzzParse feeds arbitrary bytes to the whole load pipeline: it must never
// panic, and it must return either a config or located problems.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../config.example.yml"); err == nil {
		f.Add(example)
	}
	for _, s := range []string{
		"", "server: {listen: \":1\"}", validGroup, "a: &a [*a]", "<<: {x: 1}",
		"groups: {github: [{id: g, runner_labels: [x], workflow_dispatch_templates_urls: [http://h/x]}]}",
		"auth: {basic: {users: [{username: a, password: ${P}, role: admin}]}}",
		"x: &a {b: *a}", "- - - -", "server: &a {<<: [*a, *a, *a]}", "dispatcher: {interval: 1e9h}", "? [a]\n: b",
		"a: &a [1,2]\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c]\ngroups: {github: *c}",
	} {
		f.Add([]byte(s))
	}
	opts := LoadOptions{
		LookupEnv:  env(map[string]string{"P": "x"}),
		HTTPClient: &http.Client{Transport: refuseAll{}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(context.Background(), "/nonexistent/fuzz.yml", data, opts)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without an error")
			}
			cfg.Groups()
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error is not Problems: %v", err)
		}
		if cfg != nil {
			t.Fatal("config returned together with problems")
		}
		for _, p := range ps {
			if p.File == "" || p.Msg == "" || strings.Contains(p.String(), "\n\n") {
				t.Fatalf("malformed problem %#v", p)
			}
		}
	})
}
