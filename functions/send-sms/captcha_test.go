package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/captcha/captchatest"
	"github.com/wxauth/scf-auth/pkg/functest"
)

const captchaAppID = 190000001

// withCaptcha sets CAPTCHA_MODE with a signature-checking fake of the
// captcha API, reached through the real SDK.
func withCaptcha(t *testing.T, env *functest.Env, mode string) *captchatest.Server {
	t.Helper()
	fake := captchatest.NewServer(functest.TCSecretID, functest.TCSecretKey, captchaAppID, "captcha-app-secret")
	t.Cleanup(fake.Close)
	env.Vars["CAPTCHA_MODE"] = mode
	env.Vars["CAPTCHA_APP_ID"] = "190000001"
	env.Vars["CAPTCHA_APP_SECRET_KEY"] = "captcha-app-secret"
	env.Vars["CAPTCHA_ENDPOINT"] = fake.URL
	return fake
}

func sendWith(f *functest.Function, phone, ticket string) *functest.Answer {
	return f.Post("/send-sms", functest.Body("phone", phone, "captchaTicket", ticket), "")
}

func TestAdaptiveCaptchaAsksOnTheResend(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "adaptive")
	f := sendSMS(env)
	send(f, number).Expect(t, 200, "OK") // a first code needs no captcha
	env.Clock.Advance(61 * time.Second)
	a := send(f, number).Expect(t, 428, "CAPTCHA_REQUIRED")
	if a.Str("captchaAppId") != "190000001" {
		t.Fatalf("captchaAppId: %s", a.Raw)
	}
	if n := len(env.PhoneSMS(number).Sends); n != 1 {
		t.Fatalf("the refused send counts: %d sends", n)
	}
	sendWith(f, number, fake.NewTicket()).Expect(t, 200, "OK")
	if checks := fake.Checks(); len(checks) != 1 || checks[0].UserIP != functest.ClientIPAddr || checks[0].Code != 1 {
		t.Fatalf("ticket checks %+v, want one with the client's IP", checks)
	}
	if fake.BadSignatures() != 0 {
		t.Fatal("the SDK's signature was refused")
	}
}

func TestAdaptiveCaptchaAsksOnTheClientsFourthSend(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "adaptive")
	f := sendSMS(env)
	for i := 1; i <= 3; i++ {
		send(f, "1380013800"+string(rune('0'+i))).Expect(t, 200, "OK")
	}
	send(f, "13800138004").Expect(t, 428, "CAPTCHA_REQUIRED")
	sendWith(f, "13800138004", fake.NewTicket()).Expect(t, 200, "OK")
}

func TestAdaptiveCaptchaAsksPastHalfTheGlobalCap(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "adaptive")
	env.Vars["CAPTCHA_FREE_SENDS"] = "100"
	env.Vars["SMS_GLOBAL_HOURLY_LIMIT"] = "4"
	f := sendSMS(env)
	for i := 1; i <= 3; i++ {
		send(f, "1380013800"+string(rune('0'+i))).Expect(t, 200, "OK")
	}
	send(f, "13800138004").Expect(t, 428, "CAPTCHA_REQUIRED")
	sendWith(f, "13800138004", fake.NewTicket()).Expect(t, 200, "OK")
	sendWith(f, "13800138005", fake.NewTicket()).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
}

func TestReplayedAndForgedTicketsCountNothing(t *testing.T) {
	env := functest.New(t)
	fake := withCaptcha(t, env, "always")
	f := sendSMS(env)
	ticket := fake.NewTicket()
	sendWith(f, "13800138001", ticket).Expect(t, 200, "OK")
	sendWith(f, "13800138002", ticket).Expect(t, 403, "CAPTCHA_INVALID")
	sendWith(f, "13800138003", "forged-ticket").Expect(t, 403, "CAPTCHA_INVALID")
	send(f, "13800138004").Expect(t, 428, "CAPTCHA_REQUIRED")
	for _, p := range []string{"13800138002", "13800138003", "13800138004"} {
		if n := len(env.PhoneSMS(p).Sends); n != 0 {
			t.Fatalf("a refused send to %s counts", p)
		}
	}
	if n := len(env.SMS.Messages()); n != 1 {
		t.Fatalf("%d SMS sent, want 1", n)
	}
}

func TestCaptchaServiceOutage(t *testing.T) {
	t.Run("adaptive lets the free sends through", func(t *testing.T) {
		env := functest.New(t)
		fake := withCaptcha(t, env, "adaptive")
		f := sendSMS(env)
		fake.SetDown(true)
		sendWith(f, number, "any-ticket").Expect(t, 200, "OK")
		env.Clock.Advance(61 * time.Second)
		sendWith(f, number, "any-ticket").Expect(t, 503, "SERVICE_UNAVAILABLE")
		if !strings.Contains(env.Logs.String(), "captcha service failed") {
			t.Fatalf("no clear log line:\n%s", env.Logs.String())
		}
		if n := len(env.PhoneSMS(number).Sends); n != 1 {
			t.Fatalf("the refused send counts: %d sends", n)
		}
	})
	t.Run("always refuses", func(t *testing.T) {
		env := functest.New(t)
		fake := withCaptcha(t, env, "always")
		fake.SetDown(true)
		sendWith(sendSMS(env), number, "any-ticket").Expect(t, 503, "SERVICE_UNAVAILABLE")
		if len(env.SMS.Messages()) != 0 {
			t.Fatal("sent without a checked ticket")
		}
	})
}

func TestCaptchaConfiguration(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"CAPTCHA_MODE":           {"CAPTCHA_MODE": "sometimes"},
		"CAPTCHA_APP_ID":         {"CAPTCHA_MODE": "adaptive", "CAPTCHA_APP_SECRET_KEY": "k"},
		"CAPTCHA_APP_SECRET_KEY": {"CAPTCHA_MODE": "always", "CAPTCHA_APP_ID": "190000001"},
		"CAPTCHA_ENDPOINT":       {"CAPTCHA_ENDPOINT": "ftp://x"},
		"CAPTCHA_FREE_SENDS":     {"CAPTCHA_FREE_SENDS": "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			env := functest.New(t)
			for k, v := range vars {
				env.Vars[k] = v
			}
			send(sendSMS(env), number).Expect(t, 500, "INTERNAL")
			if !strings.Contains(env.Logs.String(), name) {
				t.Fatalf("log does not name %s:\n%s", name, env.Logs.String())
			}
		})
	}
	// Off, a ticket is not looked at.
	env := functest.New(t)
	sendWith(sendSMS(env), number, "whatever").Expect(t, 200, "OK")
}
