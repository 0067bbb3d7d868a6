package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// fromAddress sends a function URL event from addr (the platform's
// x-scf-remote-addr; none when addr is empty) to the function URL's "/".
func fromAddress(f *functest.Function, addr, phone string) *functest.Answer {
	ev := map[string]any{
		"httpMethod": "POST", "path": "/", "body": `{"phone":"` + phone + `"}`,
		"headers": map[string]any{"content-type": "application/json"}, "queryString": map[string]any{},
	}
	if addr != "" {
		ev["headers"].(map[string]any)["x-scf-remote-addr"] = addr
	}
	raw, _ := json.Marshal(ev)
	return f.Invoke(raw)
}

func phoneN(i int) string { return fmt.Sprintf("139%08d", i) }

func TestOneIPv6SubscriberIsOneClient(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "5"
	f := sendSMS(env)
	addrs := []string{"240e:3b0:1:2::1", "240e:3b0:1:2::2", "240e:3b0:1:2:ffff::1", "240e:3b0:1:2:1:2:3:4", "240e:03b0:0001:0002::5"}
	for i, addr := range addrs {
		fromAddress(f, addr, phoneN(i)).Expect(t, 200, "OK")
	}
	fromAddress(f, "240e:3b0:1:2:dead:beef::6", phoneN(5)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	// The next /64 is another subscriber.
	fromAddress(f, "240e:3b0:1:3::1", phoneN(6)).Expect(t, 200, "OK")
	if n := len(env.SMS.Messages()); n != 6 {
		t.Fatalf("%d SMS sent, want 6", n)
	}
}

func TestAnIPv4AddressAndItsMappedFormAreOneClient(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "2"
	f := sendSMS(env)
	fromAddress(f, "203.0.113.50", phoneN(1)).Expect(t, 200, "OK")
	fromAddress(f, "::ffff:203.0.113.50", phoneN(2)).Expect(t, 200, "OK")
	fromAddress(f, "203.0.113.50", phoneN(3)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	fromAddress(f, "::ffff:cb00:7132", phoneN(4)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	fromAddress(f, "203.0.113.50:40000", phoneN(5)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
}

func TestAddressesThatDoNotParseShareOneKey(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "1"
	f := sendSMS(env)
	fromAddress(f, "not-an-address", phoneN(1)).Expect(t, 200, "OK")
	fromAddress(f, "still not one", phoneN(2)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	fromAddress(f, "", phoneN(3)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	fromAddress(f, "198.51.100.8", phoneN(4)).Expect(t, 200, "OK")
}

// TestDirectInvocationsHaveTheirOwnCap: the team's own servers (the Invoke
// API, no trusted caller) share one counter with SMS_DIRECT_HOURLY_LIMIT,
// not the cap of one client.
func TestDirectInvocationsHaveTheirOwnCap(t *testing.T) {
	t.Run("the default is above a client's cap", func(t *testing.T) {
		env := functest.New(t)
		f := sendSMS(env)
		for i := 0; i < 31; i++ {
			f.Direct(map[string]any{"phone": phoneN(i)}).Expect(t, 0, "OK")
		}
	})
	t.Run("set", func(t *testing.T) {
		env := functest.New(t)
		env.Vars["SMS_IP_HOURLY_LIMIT"] = "1"
		env.Vars["SMS_DIRECT_HOURLY_LIMIT"] = "3"
		f := sendSMS(env)
		for i := 0; i < 3; i++ {
			f.Direct(map[string]any{"phone": phoneN(i)}).Expect(t, 0, "OK")
		}
		f.Direct(map[string]any{"phone": phoneN(3)}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
		// A client over HTTP has its own counter and cap.
		fromAddress(f, "198.51.100.9", phoneN(4)).Expect(t, 200, "OK")
		fromAddress(f, "198.51.100.9", phoneN(5)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	})
}

// TestATrustedCallerCountsByItsAddress: a wx.cloud caller's WX_CLIENTIP is
// its client address, shared with HTTP requests from there; without one
// it counts by its openid.
func TestATrustedCallerCountsByItsAddress(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "1"
	f := sendSMS(env)
	at := func(openID, addr string) map[string]string {
		return functest.WXContext("WX_APPID", functest.AppID, "WX_OPENID", openID, "WX_CLIENTIP", addr)
	}
	f.DirectIn(at("o-1", "203.0.113.60"), map[string]any{"phone": phoneN(1)}).Expect(t, 0, "OK")
	f.DirectIn(at("o-2", "203.0.113.60"), map[string]any{"phone": phoneN(2)}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
	fromAddress(f, "203.0.113.60", phoneN(3)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	noAddress := functest.WXContext("WX_APPID", functest.AppID, "WX_OPENID", "o-3")
	f.DirectIn(noAddress, map[string]any{"phone": phoneN(4)}).Expect(t, 0, "OK")
	f.DirectIn(noAddress, map[string]any{"phone": phoneN(5)}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
}

// TestARefusedSendKeepsTheClientsCount: a send the provider refuses gives
// back the phone's cooldown and the deployment's count, so the user may
// retry at once, but keeps the client's, so refused sends cannot drive the
// provider past the client's cap.
func TestARefusedSendKeepsTheClientsCount(t *testing.T) {
	t.Run("one after the other", func(t *testing.T) {
		env := functest.New(t)
		env.Vars["SMS_IP_HOURLY_LIMIT"] = "5"
		f := sendSMS(env)
		for i := 0; i < 5; i++ {
			env.SMS.FailNext("FailedOperation.PhoneNumberInBlacklist")
			// The same phone each time: its cooldown was given back.
			send(f, number).Expect(t, 502, "SMS_SEND_FAILED")
		}
		send(f, number).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
		if n := len(env.SMS.Messages()); n != 0 {
			t.Fatalf("%d SMS sent past the client's cap", n)
		}
		// Another client may send to that phone at once.
		fromAddress(f, "198.51.100.10", number).Expect(t, 200, "OK")
	})
	t.Run("a burst", func(t *testing.T) {
		env := functest.New(t)
		env.Vars["SMS_IP_HOURLY_LIMIT"] = "5"
		env.Vars["SMS_COOLDOWN"] = "2s"
		f := sendSMS(env)
		for i := 0; i < 15; i++ {
			env.SMS.FailNext("FailedOperation.PhoneNumberInBlacklist")
		}
		answers := make([]*functest.Answer, 15)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Add(1)
			go func() { defer wg.Done(); answers[i] = send(f, phoneN(i)) }()
		}
		wg.Wait()
		reached := 0 // each SMS_SEND_FAILED is a call the provider refused
		for _, a := range answers {
			switch a.Code {
			case "SMS_SEND_FAILED":
				reached++
			case "SMS_LIMIT_EXCEEDED":
			default:
				t.Fatalf("unexpected answer %s", a.Raw)
			}
		}
		if reached < 1 || reached > 5 {
			t.Fatalf("the burst reached the provider %d times through a client cap of 5", reached)
		}
		env.Clock.Advance(3 * time.Second)
		send(f, phoneN(0)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	})
	t.Run("the deployment's count is given back", func(t *testing.T) {
		env := functest.New(t)
		env.Vars["SMS_GLOBAL_HOURLY_LIMIT"] = "2"
		f := sendSMS(env)
		for i := 0; i < 3; i++ {
			env.SMS.FailNext("FailedOperation.PhoneNumberInBlacklist")
			fromAddress(f, fmt.Sprintf("198.51.100.%d", 20+i), phoneN(i)).Expect(t, 502, "SMS_SEND_FAILED")
		}
		fromAddress(f, "198.51.100.30", phoneN(10)).Expect(t, 200, "OK")
		fromAddress(f, "198.51.100.31", phoneN(11)).Expect(t, 200, "OK")
		fromAddress(f, "198.51.100.32", phoneN(12)).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	})
}

// TestATicketIsSpentOnlyByASendTheCapsLetThrough: a solved captcha sent
// with a send the cooldown or a cap refuses is not checked, so it still
// works for the send after.
func TestATicketIsSpentOnlyByASendTheCapsLetThrough(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "always")
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "2"
	f := sendSMS(env)
	sendWith(f, number, fake.NewTicket()).Expect(t, 200, "OK")
	ticket := fake.NewTicket()
	sendWith(f, number, ticket).Expect(t, 429, "SMS_COOLDOWN")
	if n := len(fake.Checks()); n != 1 {
		t.Fatalf("%d ticket checks, want 1: the cooldown's refusal spent the ticket", n)
	}
	env.Clock.Advance(61 * time.Second)
	sendWith(f, number, ticket).Expect(t, 200, "OK")
	// The client's cap refuses before the ticket is looked at, too.
	other := fake.NewTicket()
	sendWith(f, phoneN(1), other).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	if n := len(fake.Checks()); n != 2 {
		t.Fatalf("%d ticket checks, want 2", n)
	}
	fromAddress(f, "198.51.100.40", phoneN(1)).Expect(t, 428, "CAPTCHA_REQUIRED")
	f.HTTP(functest.Request{Method: "POST", Path: "/", FunctionURL: true, Body: functest.Body("phone", phoneN(2), "captchaTicket", other)}).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
}
