package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// flowFunctions are the functions one flow calls, in order.
var flowFunctions = []string{"send-sms", "phone-login", "profile"}

// flow drives send-sms → phone-login → GET /profile through the gateway
// with c concurrent users for d, each flow with a new phone number, after
// storing -users earlier users.
func flow(args []string) error {
	fs := flag.NewFlagSet("flow", flag.ExitOnError)
	c := fs.Int("c", 16, "concurrent users")
	d := fs.Duration("d", 10*time.Second, "duration")
	users := fs.Int("users", 0, "earlier users stored before measuring")
	_ = fs.Parse(args)
	// One client IP sends every code here: lift the per-IP and global caps.
	w, err := newWorld("SMS_IP_HOURLY_LIMIT=1000000", "SMS_GLOBAL_HOURLY_LIMIT=100000000", "LOG_LEVEL=info")
	if err != nil {
		return err
	}
	defer w.close()
	if *users > 0 {
		start := time.Now()
		if err := seedUsers(context.Background(), w.store, w.env, *users); err != nil {
			return fmt.Errorf("store earlier users: %w", err)
		}
		fmt.Printf("stored %d earlier users in %v\n", *users, time.Since(start).Round(time.Millisecond))
	}
	trips := &tripCounter{perRoute: map[string][]int{}}
	procs := map[string]*localscf.Process{}
	for _, n := range flowFunctions {
		p := w.process(n)
		p.Logs = trips
		if err := p.Start(context.Background()); err != nil {
			return err
		}
		defer p.Stop()
		procs[n] = p
	}
	gw := httptest.NewServer(&localscf.Gateway{Functions: procs})
	defer gw.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c * 2}}

	var flows, requests, failures atomic.Int64
	var mu sync.Mutex
	latencies := map[string][]time.Duration{}
	record := func(route string, took time.Duration) {
		mu.Lock()
		latencies[route] = append(latencies[route], took)
		mu.Unlock()
	}
	call := func(method, path, body, token string) (map[string]any, error) {
		req, _ := http.NewRequest(method, gw.URL+path, bytes.NewBufferString(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		record(method+" "+path, time.Since(start))
		requests.Add(1)
		var env struct {
			Code string         `json:"code"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil || env.Code != "OK" {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		return env.Data, nil
	}

	cpuBefore := w.cpu(procs)
	var seq atomic.Int64
	deadline := time.Now().Add(*d)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for i := 0; i < *c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				phone := fmt.Sprintf("139%08d", seq.Add(1))
				err := func() error {
					if _, err := call("POST", "/send-sms", `{"phone":"`+phone+`"}`, ""); err != nil {
						return err
					}
					code := w.sms.LastCodeFor(phone)
					sess, err := call("POST", "/phone-login", `{"phone":"`+phone+`","code":"`+code+`"}`, "")
					if err != nil {
						return err
					}
					_, err = call("GET", "/profile", "", sess["accessToken"].(string))
					return err
				}()
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				flows.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuAfter := w.cpu(procs)

	n := flows.Load()
	fmt.Printf("flow send-sms → phone-login → GET /profile, %d users at once, %v, %d earlier users\n", *c, elapsed.Round(time.Millisecond), *users)
	fmt.Printf("  %d flows (%.1f flows/s), %d requests (%.1f req/s), %d failed\n",
		n, float64(n)/elapsed.Seconds(), requests.Load(), float64(requests.Load())/elapsed.Seconds(), failures.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Printf("  first failure: %v\n", e)
	}
	if n > 0 {
		perFlow := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000/float64(n)) }
		fmt.Printf("  CPU per flow: database %s, functions %s, gateway and load generator %s\n",
			perFlow(cpuAfter.db-cpuBefore.db), perFlow(cpuAfter.functions-cpuBefore.functions), perFlow(cpuAfter.self-cpuBefore.self))
	}
	var routes []string
	for r := range latencies {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		fmt.Printf("  %-20s p50 %8s  p90 %8s  p99 %8s\n", r, pct(latencies[r], 50), pct(latencies[r], 90), pct(latencies[r], 99))
	}
	fmt.Println("  database round trips per request (from the functions' logs):")
	for _, line := range trips.summary() {
		fmt.Println("    " + line)
	}
	fmt.Println("  peak RSS per function process:")
	for _, name := range flowFunctions {
		fmt.Printf("    %-12s %s (%d invocations)\n", name, peakRSS(procs[name].PID()), procs[name].Invocations)
	}
	return nil
}

// cpuSample is the CPU time used so far by each part of the run.
type cpuSample struct{ db, functions, self time.Duration }

func (w *world) cpu(procs map[string]*localscf.Process) cpuSample {
	var s cpuSample
	if w.dbPID != 0 {
		s.db = cpuTime(w.dbPID)
	}
	for _, p := range procs {
		s.functions += cpuTime(p.PID())
	}
	s.self = cpuTime(os.Getpid())
	return s
}

// tripCounter reads the functions' request log lines and collects the
// database round trips each request took, by function and route.
type tripCounter struct {
	mu       sync.Mutex
	perRoute map[string][]int
}

func (t *tripCounter) Write(p []byte) (int, error) {
	// Lines come as "[function] {json}".
	line := p
	if i := bytes.IndexByte(line, '{'); i >= 0 {
		line = line[i:]
	}
	var entry struct {
		Msg       string `json:"msg"`
		Method    string `json:"method"`
		Path      string `json:"path"`
		Code      string `json:"code"`
		RoundTrip *int   `json:"dbRoundTrips"`
	}
	if json.Unmarshal(bytes.TrimSpace(line), &entry) == nil && entry.RoundTrip != nil && entry.Code == "OK" {
		t.mu.Lock()
		key := entry.Method + " " + entry.Path
		t.perRoute[key] = append(t.perRoute[key], *entry.RoundTrip)
		t.mu.Unlock()
	}
	return len(p), nil
}

func (t *tripCounter) summary() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for route, trips := range t.perRoute {
		lo, hi, sum := trips[0], trips[0], 0
		for _, n := range trips {
			lo, hi, sum = min(lo, n), max(hi, n), sum+n
		}
		out = append(out, fmt.Sprintf("%-20s mean %.2f, min %d, max %d (%d requests)", route, float64(sum)/float64(len(trips)), lo, hi, len(trips)))
	}
	sort.Strings(out)
	return out
}
