package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
)

// The provider refusing a number must not become free guesses: a failed
// send leaves no usable code, keeps the attempts of the code before it,
// and the provider's frequency refusal is SMS_LIMIT_EXCEEDED.
func TestAFailedSendGivesNoCodeToGuess(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_COOLDOWN"] = "1s"
	f := sendSMS(env)
	send(f, number).Expect(t, 200, "OK")
	first := env.PhoneSMS(number).Code
	env.Clock.Advance(2 * time.Second)

	env.SMS.FailNext("status:LimitExceeded.PhoneNumberDailyLimit")
	a := send(f, number).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	if a.Num("retryAfter") < 1 || strings.Contains(a.Raw, "LimitExceeded") {
		t.Fatalf("provider refusal answered %s", a.Raw)
	}
	if c := env.PhoneSMS(number).Code; c == nil || c.Nonce != first.Nonce {
		t.Fatalf("a refused send replaced the code: %+v", c)
	}
	env.Clock.Advance(2 * time.Second)
	env.SMS.FailNext("FailedOperation.PhoneNumberInBlacklist")
	send(f, number).Expect(t, 502, "SMS_SEND_FAILED")
	if c := env.PhoneSMS(number).Code; c == nil || c.Nonce != first.Nonce {
		t.Fatalf("a failed send replaced the code: %+v", c)
	}
	// Neither counted: the caps still allow the sends they allowed.
	if sends := env.PhoneSMS(number).Sends; len(sends) != 1 {
		t.Fatalf("%d sends counted, want the one that went out", len(sends))
	}
}

// A send whose outcome is unknown (the provider timed out) may have gone
// out: it counts, and its code works.
func TestAnUnknownOutcomeCountsAndKeepsItsCode(t *testing.T) {
	env := functest.New(t)
	f := sendSMS(env)
	f.Timeout = 3 * time.Second
	env.SMS.SetDelay(4 * time.Second)
	a := send(f, number).Expect(t, 502, "SMS_SEND_FAILED")
	if a.Num("retryAfter") != 60 {
		t.Fatalf("unknown outcome answered %s, want retryAfter 60", a.Raw)
	}
	if env.PhoneSMS(number).Code == nil {
		t.Fatal("the code of a send that may have gone out is not kept")
	}
	env.SMS.SetDelay(0)
	send(f, number).Expect(t, 429, "SMS_COOLDOWN")
	if !strings.Contains(env.Logs.String(), "outcome unknown") {
		t.Fatalf("not logged:\n%s", env.Logs.String())
	}
}

// A misconfiguration the provider reports is logged once, naming what to
// fix; the client sees SMS_SEND_FAILED.
func TestProviderMisconfigurationIsLoggedWithTheFix(t *testing.T) {
	env := functest.New(t)
	env.SMS.FailNext("FailedOperation.TemplateIncorrectOrUnapproved")
	a := send(sendSMS(env), number).Expect(t, 502, "SMS_SEND_FAILED")
	if strings.Contains(a.Raw, "TEMPLATE") {
		t.Fatalf("the fix leaked to the client: %s", a.Raw)
	}
	if logs := env.Logs.String(); !strings.Contains(logs, "SMS_TEMPLATE_ID") || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("log does not name SMS_TEMPLATE_ID:\n%s", logs)
	}
}

func TestNoSMSToADisabledAccountsPhone(t *testing.T) {
	env := functest.New(t)
	acct := env.SignUp(func(u *store.User) { u.CountryCode, u.Phone = "86", number })
	if err := env.Store.RecordPhoneOwner(t.Context(), env.PhoneKey(number), acct.User.ID, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	f := sendSMS(env)
	if err := env.Store.SetField(t.Context(), acct.User.ID, "disabled", true); err != nil {
		t.Fatal(err)
	}
	send(f, number).Expect(t, 403, "ACCOUNT_DISABLED")
	if n := len(env.SMS.Messages()); n != 0 {
		t.Fatalf("%d SMS sent to a disabled account's phone", n)
	}
	if sends := env.PhoneSMS(number).Sends; len(sends) != 0 {
		t.Fatalf("the refused send counts: %v", sends)
	}
	if err := env.Store.SetField(t.Context(), acct.User.ID, "disabled", "False"); err != nil {
		t.Fatal(err)
	}
	send(f, number).Expect(t, 200, "OK")
}

// Direct invocations without a caller the platform vouches for share one
// key for the per-client cap (SMS_DIRECT_HOURLY_LIMIT): an empty or
// foreign userInfo or context does not escape it, and neither does a
// wx.cloud call dressed as an HTTP event.
func TestDirectInvocationsWithoutATrustedCallerShareOneCap(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_DIRECT_HOURLY_LIMIT"] = "1"
	f := sendSMS(env)
	f.Direct(map[string]any{"phone": "13800138001"}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"phone": "13800138002", "userInfo": map[string]any{"appId": "wxforeign", "openId": "o-x"}}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
	f.Direct(map[string]any{"phone": "13800138003", "userInfo": map[string]any{"appId": functest.AppID, "openId": ""}}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
	f.Direct(map[string]any{"phone": "13800138004", "userInfo": nil}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
	f.DirectIn(functest.WXContext("WX_APPID", "wxforeign", "WX_OPENID", "o-y", "WX_CLIENTIP", "198.51.100.78"), map[string]any{"phone": "13800138006"}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
	dressed := map[string]any{
		"httpMethod": "POST", "path": "/send-sms", "body": `{"phone":"13800138005"}`,
		"headers":  map[string]any{"x-scf-remote-addr": "198.51.100.77"},
		"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-dressed"},
	}
	f.Direct(dressed).Expect(t, 0, "INVALID_REQUEST")
	if n := len(env.SMS.Messages()); n != 1 {
		t.Fatalf("%d SMS sent, want 1", n)
	}
}
