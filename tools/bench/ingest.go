package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethpandaops/dispatchoor/tools/ghsim"
)

// runIngest posts signed workflow_job deliveries as fast as the server
// acknowledges them. The payloads are ghsim's own (captured from one real
// dispatch), given fresh job and run ids and delivery GUIDs, so each one is
// recorded and applied, not discarded as a duplicate; every job goes
// queued → in_progress (a runner busy) → completed (idle again, which wakes
// the dispatcher), the mix a busy org sends.
func runIngest(ctx context.Context, e env) (result, error) {
	r := result{Title: "4. Webhook ingest"}
	count, limit, workers := 30_000, 45*time.Second, 16
	if e.Short {
		count, limit = 6_000, 20*time.Second
	}
	bs, release, err := backends(ctx, e, "ingest")
	defer release()
	if err != nil {
		return r, err
	}
	r.line("A Go load generator on loopback, %d concurrent senders, at most %d deliveries or %s per database; "+
		"each delivery HMAC-signed as GitHub does and acknowledged only after it was recorded and applied.", workers, count, limit)
	r.line("")
	r.line("The floor is the same load against a minimal server on the same database that verifies the signature and " +
		"inserts and selects one row per delivery (tools/bench/floor.go), measured in the same run: the ratios carry across machines.")
	r.line("")
	r.line("| database | server | deliveries | per second | ack p50 | ack p99 | ack max | errors |")
	r.line("|---|---|---|---|---|---|---|---|")
	want := map[string]float64{"SQLite": 2000, "PostgreSQL": 1500}
	for _, b := range bs {
		ours, floor, err := ingestOn(ctx, e, b, count, limit, workers)
		if err != nil {
			return r, fmt.Errorf("%s: %w", b.Name, err)
		}
		for _, row := range []struct {
			name string
			m    ingestMeasure
		}{{"dispatchoor", ours}, {"floor", floor}} {
			r.line("| %s | %s | %d | %.0f | %s | %s | %s | %d |", b.Name, row.name, row.m.n, row.m.rate, ms(row.m.d.P50), ms(row.m.d.P99), ms(row.m.d.Max), row.m.errs)
		}
		r.line("| %s | ratio | | **%.2f×** the floor's rate | | **%.1f×** the floor's p99 | | |", b.Name, ours.rate/floor.rate, ours.d.P99.Seconds()/floor.d.P99.Seconds())
		r.check("webhook ingest rate, "+b.Name, fmt.Sprintf("≥ %.0f/s", want[b.Name]), fmt.Sprintf("%.0f/s", ours.rate), ours.rate >= want[b.Name] && ours.errs == 0)
		r.check("webhook ack p99, "+b.Name, "≤ 25 ms", ms(ours.d.P99), ours.d.P99 <= 25*time.Millisecond)
	}
	return r, nil
}

// ingestMeasure is one load run's result.
type ingestMeasure struct {
	n, errs int
	rate    float64
	d       dist
}

// ingestOn measures dispatchoor and then the floor on b with the same load.
func ingestOn(ctx context.Context, e env, b backend, count int, limit time.Duration, workers int) (ingestMeasure, ingestMeasure, error) {
	n, rate, d, errs, samples, err := ingestServer(ctx, e, b, count, limit, workers)
	ours := ingestMeasure{n: n, rate: rate, d: d, errs: errs}
	if err != nil {
		return ours, ingestMeasure{}, err
	}
	fw, err := newWorld(worldOptions{Seed: e.Seed, Speed: 10})
	if err != nil {
		return ours, ingestMeasure{}, err
	}
	defer fw.close()
	fl, err := startFloor(ctx, e, fw, b, filepath.Join(e.Dir, "ingest-floor-"+b.Name), false)
	if err != nil {
		return ours, ingestMeasure{}, err
	}
	defer fl.stop()
	floor := ingestLoad(ctx, fl.url, samples, count, limit, workers, "floor")
	return ours, floor, nil
}

// ingestSamples are the captured deliveries the load replays.
type ingestSamples struct {
	tmpl    map[string]map[string]any
	headers map[string]http.Header
}

func ingestServer(ctx context.Context, e env, b backend, count int, limit time.Duration, workers int) (int, float64, dist, int, ingestSamples, error) {
	groups := []groupSpec{{ID: "ingest", Labels: []string{"self-hosted", "ingest"}, Runners: 4}}
	w, err := newWorld(worldOptions{Seed: e.Seed, Speed: 10, Groups: groups, Duration: func(*rand.Rand) time.Duration { return time.Second }})
	if err != nil {
		return 0, 0, dist{}, 0, ingestSamples{}, err
	}
	defer w.close()
	s, err := startServer(ctx, w, serverOptions{Bin: e.Bin, Dir: filepath.Join(e.Dir, "ingest-"+b.Name), DSN: b.DSN,
		Interval: 15 * time.Second, Reconcile: 5 * time.Minute, StartTimeout: 30 * time.Minute, Groups: groups})
	if err != nil {
		return 0, 0, dist{}, 0, ingestSamples{}, err
	}
	defer s.stop()
	w.sim.SetWebhookURL(s.url + "/api/github/hook")
	if _, err := s.enqueue(ctx, "ingest"); err != nil {
		return 0, 0, dist{}, 0, ingestSamples{}, err
	}
	samples := map[string]ghsim.Delivery{}
	ok := waitFor(ctx, 30*time.Second, 50*time.Millisecond, func() bool {
		for _, d := range w.sim.Deliveries() {
			if d.Event == "workflow_job" && d.Delivered {
				samples[d.Action] = d
			}
		}
		return len(samples) == 3
	})
	if !ok {
		return 0, 0, dist{}, 0, ingestSamples{}, fmt.Errorf("no workflow_job queued/in_progress/completed sample within 30s (server log %s)", s.log.Name())
	}
	w.sim.SetWebhookURL("")
	actions := []string{"queued", "in_progress", "completed"}
	tmpl := map[string]map[string]any{}
	headers := map[string]http.Header{}
	for _, a := range actions {
		var m map[string]any
		if err := json.Unmarshal(samples[a].Payload, &m); err != nil {
			return 0, 0, dist{}, 0, ingestSamples{}, fmt.Errorf("decode %s sample: %w", a, err)
		}
		tmpl[a] = m
		headers[a] = samples[a].RequestHeader
	}

	smp := ingestSamples{tmpl: tmpl, headers: headers}
	m := ingestLoad(ctx, s.url, smp, count, limit, workers, "bench")
	return m.n, m.rate, m.d, m.errs, smp, nil
}

// ingestLoad posts count deliveries (or for limit) to base's hook with
// workers concurrent senders; guid prefixes keep runs apart.
func ingestLoad(ctx context.Context, base string, smp ingestSamples, count int, limit time.Duration, workers int, prefix string) ingestMeasure {
	actions := []string{"queued", "in_progress", "completed"}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var next, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(count) {
					return
				}
				action := actions[i%3]
				job := 900_000_000 + i/3
				body, err := ingestPayload(smp.tmpl[action], job)
				if err != nil {
					errs.Add(1)
					continue
				}
				t := time.Now()
				code, err := postDelivery(ctx, client, base+"/api/github/hook", smp.headers[action], fmt.Sprintf("%s-%d", prefix, i), body)
				if ctx.Err() != nil {
					return
				}
				if err != nil || code/100 != 2 {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return ingestMeasure{n: len(lat), rate: float64(len(lat)) / elapsed.Seconds(), d: summarise(lat), errs: int(errs.Load())}
}

// ingestPayload is the sample with a fresh job and run id; the run is not
// one of ours, as most of a busy org's runs are not.
func ingestPayload(sample map[string]any, job int64) ([]byte, error) {
	j, ok := sample["workflow_job"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("sample has no workflow_job object")
	}
	c := make(map[string]any, len(j))
	for k, v := range j {
		c[k] = v
	}
	c["id"], c["run_id"] = job, job+1_000_000_000
	m := make(map[string]any, len(sample))
	for k, v := range sample {
		m[k] = v
	}
	m["workflow_job"] = c
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode delivery: %w", err)
	}
	return b, nil
}

// postDelivery sends body with the sample's headers (GitHub's hook and
// installation target headers), a new GUID and its own signature.
func postDelivery(ctx context.Context, client *http.Client, url string, sample http.Header, guid string, body []byte) (int, error) {
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("delivery %s: %w", guid, err)
	}
	req.Header = sample.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Delivery", guid)
	req.Header.Del("X-Hub-Signature")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("delivery %s: %w", guid, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
