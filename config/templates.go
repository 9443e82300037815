package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/ethpandaops/dispatchoor/core"
)

// maxParallelFetches bounds concurrent template URL fetches: sequential
// fetches would let ten slow hosts hold a start-up for ten timeouts.
const maxParallelFetches = 8

// collectTemplates gathers each group's templates from its three sources in
// order (inline, files, URLs) and tags each with its source.
func (l *loader) collectTemplates(ctx context.Context, cfg *Config) {
	fetched := l.fetchAll(ctx, cfg.GroupsConfig.GitHub)
	for gi := range cfg.GroupsConfig.GitHub {
		g := &cfg.GroupsConfig.GitHub[gi]
		gpath := fmt.Sprintf("groups.github[%d]", gi)
		for ti, t := range g.Templates {
			t.Source = core.TemplateSource{Kind: core.SourceInline}
			t.file, t.path = cfg.File, fmt.Sprintf("%s.workflow_dispatch_templates[%d]", gpath, ti)
			g.all = append(g.all, t)
		}
		for fi, f := range g.TemplateFiles {
			entry := fmt.Sprintf("%s.workflow_dispatch_templates_files[%d]", gpath, fi)
			ts, ok := l.templateFile(cfg.File, entry, f)
			if !ok {
				l.incomplete[gi] = true
			}
			g.all = append(g.all, ts...)
		}
		for ui, u := range g.TemplateURLs {
			entry := fmt.Sprintf("%s.workflow_dispatch_templates_urls[%d]", gpath, ui)
			res := fetched[urlKey{gi, ui}]
			// What is shown (problems, the API's source.location, logs) is
			// the redacted URL: a token put into it must not reach readers.
			shown := RedactURL(u)
			if res.err != nil {
				l.at(cfg.File, entry, "group %q: template URL %s: %v", g.ID, shown, res.err)
				l.incomplete[gi] = true
				continue
			}
			// Never expanded: a remote file must not read our environment.
			g.all = append(g.all, l.templateList(shown, res.body, core.TemplateSource{Kind: core.SourceURL, Location: shown}, false)...)
		}
	}
}

func (l *loader) templateFile(cfgFile, entry, name string) ([]Template, bool) {
	if name == "" {
		l.at(cfgFile, entry, "template file name is empty")
		return nil, false
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		l.at(cfgFile, entry, "read template file: %v", err)
		return nil, false
	}
	return l.templateList(p, data, core.TemplateSource{Kind: core.SourceFile, Location: p}, true), true
}

// templateList decodes a file that is a YAML list of templates.
func (l *loader) templateList(file string, data []byte, src core.TemplateSource, expand bool) []Template {
	root := l.parse(file, data)
	if root == nil {
		return nil
	}
	if expand {
		l.expand(file, root)
	}
	var list []Template
	l.decode(file, root, reflect.ValueOf(&list).Elem())
	for i := range list {
		list[i].Source = src
		list[i].file, list[i].path = file, fmt.Sprintf("[%d]", i)
	}
	return list
}

type urlKey struct{ group, index int }

type fetchResult struct {
	body []byte
	err  error
}

func (l *loader) fetchAll(ctx context.Context, groups []Group) map[urlKey]fetchResult {
	out := map[urlKey]fetchResult{}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxParallelFetches)
	)
	for gi, g := range groups {
		for ui, u := range g.TemplateURLs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				body, err := l.fetch(ctx, u)
				mu.Lock()
				out[urlKey{gi, ui}] = fetchResult{body, err}
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return out
}

func (l *loader) fetch(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL, token and all.
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("only absolute http and https URLs are fetched")
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := l.opts.HTTPClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("fetch timed out after %s", l.opts.FetchTimeout)
		}
		return nil, fmt.Errorf("fetch: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch: HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, l.opts.MaxFetchBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("read body timed out after %s", l.opts.FetchTimeout)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > l.opts.MaxFetchBytes {
		return nil, fmt.Errorf("body is larger than the %d-byte limit", l.opts.MaxFetchBytes)
	}
	return body, nil
}
