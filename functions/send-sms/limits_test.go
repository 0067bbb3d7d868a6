package main

import (
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A captcha ticket buys one send past what the captcha guards, never past
// the cooldown or the per-phone caps: those hold for a send with a ticket
// as for one without, and a refused send leaves its ticket good.
func TestCooldownAndCapsHoldForASendWithATicket(t *testing.T) {
	for _, mode := range []string{"always", "adaptive"} {
		t.Run(mode, func(t *testing.T) {
			env := functest.New(t)
			fake := withCaptcha(t, env, mode)
			fake.DevTickets = true
			env.Vars["SMS_PHONE_HOURLY_LIMIT"] = "2"
			f := sendSMS(env)
			sendWith(f, number, "dev-ok-1").Expect(t, 200, "OK")
			env.Clock.Advance(time.Second)
			sendWith(f, number, "dev-ok-2").Expect(t, 429, "SMS_COOLDOWN")
			env.Clock.Advance(time.Minute)
			sendWith(f, number, "dev-ok-2").Expect(t, 200, "OK") // not spent by the refused send
			env.Clock.Advance(time.Minute)
			sendWith(f, number, "dev-ok-3").Expect(t, 429, "SMS_LIMIT_EXCEEDED")
			if n := len(env.SMS.Messages()); n != 2 {
				t.Fatalf("%d SMS sent, want 2", n)
			}
		})
	}
}

// retryAfter is whole seconds rounded up: a client that waits as long as
// it is told is let through, and one that comes back a second sooner is
// not, whatever fraction of a second the wait had.
func TestWaitingRetryAfterIsEnough(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		// second is the phone of the refused send.
		second string
		code   string
		after  time.Duration
	}{
		{"cooldown", nil, number, "SMS_COOLDOWN", 1500 * time.Millisecond},
		{"phone hourly cap", map[string]string{"SMS_COOLDOWN": "1s", "SMS_PHONE_HOURLY_LIMIT": "1"}, number, "SMS_LIMIT_EXCEEDED", 10*time.Minute + 300*time.Millisecond},
		{"client hourly cap", map[string]string{"SMS_IP_HOURLY_LIMIT": "1"}, "13900139000", "SMS_LIMIT_EXCEEDED", 10*time.Minute + 300*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			for k, v := range tt.vars {
				env.Vars[k] = v
			}
			// A clock with a fraction of a second, as real clocks have.
			env.Clock.Advance(time.Duration(env.Clock.Now().Nanosecond()%1e6) + 123456789)
			f := sendSMS(env)
			send(f, number).Expect(t, 200, "OK")
			env.Clock.Advance(tt.after)
			wait := send(f, tt.second).Expect(t, 429, tt.code).Num("retryAfter")
			if wait < 2 {
				t.Fatalf("retryAfter %v: too short to tell", wait)
			}
			env.Clock.Advance(time.Duration(wait-1) * time.Second)
			send(f, tt.second).Expect(t, 429, tt.code)
			env.Clock.Advance(time.Second)
			send(f, tt.second).Expect(t, 200, "OK")
		})
	}
}
