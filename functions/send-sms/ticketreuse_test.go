package main

import (
	"sync"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A ticket is good for one send by our own record of used tickets, not
// only because the captcha service refuses a replay: here the service
// accepts the ticket every time (as a stale cache, a lenient region or a
// replay inside its window would), and our record alone refuses it.
func TestOurOwnRecordRefusesAReusedTicket(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "always")
	fake.DevTickets = true // every "dev-ok…" ticket is good, any number of times
	f := sendSMS(env)
	const ticket = "dev-ok-reused"
	sendWith(f, "13800138001", ticket).Expect(t, 200, "OK")
	sendWith(f, "13800138002", ticket).Expect(t, 403, "CAPTCHA_INVALID")
	f.Direct(map[string]any{"phone": "13800138003", "captchaTicket": ticket}).Expect(t, 0, "CAPTCHA_INVALID")
	checks := fake.Checks()
	if len(checks) != 3 {
		t.Fatalf("%d ticket checks, want 3: %+v", len(checks), checks)
	}
	for _, c := range checks {
		if c.Code != 1 {
			t.Fatalf("the service refused a ticket itself (%+v): this test proves nothing of our own record", c)
		}
	}
	for _, p := range []string{"13800138002", "13800138003"} {
		if n := len(env.PhoneSMS(p).Sends); n != 0 {
			t.Fatalf("the send to %s with a reused ticket counts", p)
		}
	}
	if n := len(env.SMS.Messages()); n != 1 {
		t.Fatalf("%d SMS sent, want 1", n)
	}
	// Another ticket is good.
	sendWith(f, "13800138002", "dev-ok-fresh").Expect(t, 200, "OK")
}

// Of sends racing with one ticket the service accepts every time, exactly
// one goes through.
func TestConcurrentSendsWithOneTicketSendOnce(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "always")
	fake.DevTickets = true
	f := sendSMS(env)
	answers := make([]*functest.Answer, 8)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = sendWith(f, phoneN(i), "dev-ok-raced") }()
	}
	wg.Wait()
	ok := 0
	for _, a := range answers {
		switch a.Code {
		case "OK":
			ok++
		case "CAPTCHA_INVALID":
		default:
			t.Fatalf("unexpected answer %s", a.Raw)
		}
	}
	if ok != 1 || len(env.SMS.Messages()) != 1 {
		t.Fatalf("%d sends and %d SMS with one ticket, want 1", ok, len(env.SMS.Messages()))
	}
}
