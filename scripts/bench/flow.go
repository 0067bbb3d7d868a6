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
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// flow drives send-sms → phone-login → GET /profile through the gateway
// with c concurrent users for d, each flow with a new phone number.
func flow(args []string) error {
	fs := flag.NewFlagSet("flow", flag.ExitOnError)
	c := fs.Int("c", 8, "concurrent users")
	d := fs.Duration("d", 10*time.Second, "duration")
	_ = fs.Parse(args)
	// One client IP sends every code here: lift the per-IP cap.
	w, err := newWorld("SMS_IP_HOURLY_LIMIT=1000000")
	if err != nil {
		return err
	}
	defer w.close()
	procs := map[string]*localscf.Process{}
	for _, n := range []string{"send-sms", "phone-login", "profile"} {
		p := w.process(n)
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
	fmt.Printf("flow send-sms → phone-login → GET /profile, %d users, %v\n", *c, elapsed.Round(time.Millisecond))
	fmt.Printf("  %d flows (%.1f flows/s), %d requests (%.1f req/s), %d failed\n",
		flows.Load(), float64(flows.Load())/elapsed.Seconds(), requests.Load(), float64(requests.Load())/elapsed.Seconds(), failures.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Printf("  first failure: %v\n", e)
	}
	var routes []string
	for r := range latencies {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		fmt.Printf("  %-20s p50 %8s  p90 %8s  p99 %8s\n", r, pct(latencies[r], 50), pct(latencies[r], 90), pct(latencies[r], 99))
	}
	fmt.Println("  peak RSS per function process:")
	for _, n := range []string{"send-sms", "phone-login", "profile"} {
		fmt.Printf("    %-12s %s (%d invocations)\n", n, peakRSS(procs[n].PID()), procs[n].Invocations)
	}
	return nil
}
