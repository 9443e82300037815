package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits applied to template URLs unless LoadOptions says otherwise.
const (
	DefaultFetchTimeout  = 10 * time.Second
	DefaultMaxFetchBytes = 1 << 20
)

// LoadOptions carries what Load needs from the outside world, so tests can
// hand it a fake environment and an httptest client.
type LoadOptions struct {
	// LookupEnv resolves ${NAME}. Nil means an empty environment: every
	// reference is reported as unset.
	LookupEnv func(string) (string, bool)
	// HTTPClient fetches workflow_dispatch_templates_urls. Nil means a
	// plain &http.Client{}.
	HTTPClient *http.Client
	// FetchTimeout bounds each URL fetch; zero means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxFetchBytes caps each URL's body; zero means DefaultMaxFetchBytes.
	MaxFetchBytes int64
}

// NewLoadOptions returns the options a real server uses: the process
// environment, a fresh HTTP client and the default limits.
func NewLoadOptions() LoadOptions {
	return LoadOptions{
		LookupEnv:     os.LookupEnv,
		HTTPClient:    &http.Client{},
		FetchTimeout:  DefaultFetchTimeout,
		MaxFetchBytes: DefaultMaxFetchBytes,
	}
}

// Load reads, expands, completes and validates the configuration at path.
// When anything is wrong it returns a nil *Config and Problems listing every
// problem found; a main file that cannot be read at all is a plain error.
func Load(ctx context.Context, path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(ctx, path, data, opts)
}

// Parse is Load for a configuration already in memory. name is used in
// problems and its folder anchors relative template files and the App's
// private_key_path.
func Parse(ctx context.Context, name string, data []byte, opts LoadOptions) (*Config, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.MaxFetchBytes <= 0 {
		opts.MaxFetchBytes = DefaultMaxFetchBytes
	}
	l := &loader{opts: opts, dir: filepath.Dir(name), locs: map[string]map[string]position{},
		incomplete: map[int]bool{}, undecodable: map[string]bool{}}
	cfg := defaults()
	cfg.File = name
	if root := l.parse(name, data); root != nil {
		l.expand(name, root)
		l.decode(name, root, reflect.ValueOf(&cfg).Elem())
	}
	l.collectTemplates(ctx, &cfg)
	l.complete(&cfg)
	l.validate(&cfg)
	if len(l.probs) > 0 {
		return nil, l.probs.Sorted()
	}
	return &cfg, nil
}

type loader struct {
	opts  LoadOptions
	dir   string
	probs Problems
	// locs maps file -> YAML path -> where that value was written.
	locs map[string]map[string]position
	// incomplete marks groups (by index) whose template sources failed, so
	// no runner_scope is derived from a partial template list.
	incomplete map[int]bool
	// undecodable holds file+path of values decoding already refused, so
	// validation does not report the same mistake a second time.
	undecodable map[string]bool
}

func (l *loader) add(p Problem) { l.probs = append(l.probs, p) }

// at reports a problem at path in file, or at its nearest written ancestor
// when the key itself is absent (a missing owner points at its template).
func (l *loader) at(file, path, format string, args ...any) {
	if l.undecodable[file+"\x00"+path] {
		return
	}
	p := Problem{File: file, Path: path, Msg: fmt.Sprintf(format, args...)}
	for probe := path; ; {
		if pos, ok := l.locs[file][probe]; ok {
			p.Line, p.Column = pos.line, pos.col
			break
		}
		cut := strings.LastIndexAny(probe, ".[")
		if cut < 0 {
			break
		}
		probe = probe[:cut]
	}
	l.add(p)
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads the single YAML document of a file. It returns nil for an
// empty file or a syntax error (reported).
func (l *loader) parse(file string, data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a config file must
		// never take the process down.
		if r := recover(); r != nil {
			l.add(Problem{File: file, Msg: fmt.Sprintf("cannot parse YAML: %v", r)})
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			l.syntaxProblem(file, err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.add(Problem{File: file, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed per file"})
	} else if !errors.Is(err, io.EOF) {
		l.syntaxProblem(file, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return nil
}

func (l *loader) syntaxProblem(file string, err error) {
	p := Problem{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = "invalid YAML: " + m[2]
	}
	l.add(p)
}

func (l *loader) expand(file string, root *yaml.Node) {
	expandTree(root, "", l.opts.LookupEnv, func(n *yaml.Node, path, name string) {
		l.add(Problem{File: file, Line: n.Line, Column: n.Column, Path: path,
			Msg: fmt.Sprintf("environment variable %s is not set (write $${ for a literal ${)", name)})
	})
}

func (l *loader) decode(file string, root *yaml.Node, v reflect.Value) {
	d := newDecoder(file, func(p Problem) {
		l.undecodable[file+"\x00"+p.Path] = true
		l.add(p)
	})
	d.decode(root, v, "")
	if l.locs[file] == nil {
		l.locs[file] = d.pos
		return
	}
	for k, p := range d.pos { // the same file used by several groups
		l.locs[file][k] = p
	}
}
