package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/wxauth/scf-auth/pkg/wechatsim"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// wxStorm starts p cold phone-number-login instances at once, with no
// access token cached, and sends them n logins concurrently; it reports
// how often stable_token was fetched, and the WeChat calls per login.
func wxStorm(args []string) error {
	fs := flag.NewFlagSet("wxstorm", flag.ExitOnError)
	p := fs.Int("p", 4, "instances")
	n := fs.Int("n", 200, "logins")
	_ = fs.Parse(args)
	w, err := newWorld()
	if err != nil {
		return err
	}
	defer w.close()
	var procs []*localscf.Process
	for i := 0; i < *p; i++ {
		proc := w.process("phone-number-login")
		if err := proc.Start(context.Background()); err != nil {
			return err
		}
		defer proc.Stop()
		procs = append(procs, proc)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *n)
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			event, _ := json.Marshal(map[string]string{
				"loginCode": w.sim.NewLoginCode(wechatsim.Identity{OpenID: fmt.Sprintf("o-storm-%d", i)}),
				"phoneCode": w.sim.NewPhoneCode("86", fmt.Sprintf("137%08d", i)),
			})
			out, err := localscf.InvokeDirect(context.Background(), procs[i%len(procs)], event)
			var env struct {
				Code string `json:"code"`
			}
			if err == nil && (json.Unmarshal(out, &env) != nil || env.Code != "OK") {
				err = fmt.Errorf("login answered %s", out)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	fmt.Printf("wxstorm: %d phone-number logins over %d cold instances in %v, %d failed\n", *n, *p, time.Since(start).Round(time.Millisecond), failed)
	fmt.Printf("  stable_token fetches: %d; cgi-bin/token calls: %d\n", w.sim.Calls("stable_token"), w.sim.Calls("token"))
	fmt.Printf("  jscode2session: %d, getuserphonenumber: %d (%.2f WeChat calls per login besides the token)\n",
		w.sim.Calls("jscode2session"), w.sim.Calls("getuserphonenumber"),
		float64(w.sim.Calls("jscode2session")+w.sim.Calls("getuserphonenumber"))/float64(*n))
	return nil
}
