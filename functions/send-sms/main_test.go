package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

const number = "13800138000"

func sendSMS(env *functest.Env) *functest.Function { return env.Function("send-sms", newHandler) }

func send(f *functest.Function, phone string) *functest.Answer {
	return f.Post("/send-sms", functest.Body("phone", phone), "")
}

func TestSendSMS(t *testing.T) {
	env := functest.New(t)
	a := send(sendSMS(env), "+86 138-0013-8000").Expect(t, 200, "OK")
	if a.Num("cooldown") != 60 || a.Num("expiresIn") != 300 {
		t.Fatalf("data = %v", a.Data)
	}
	msgs := env.SMS.Messages()
	if len(msgs) != 1 || msgs[0].Phone != "+86"+number || msgs[0].AppID != functest.SMSAppID {
		t.Fatalf("sent %+v", msgs)
	}
	code := msgs[0].Params[0]
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", code)
	}
	stored := env.PhoneSMS(number)
	if stored.Code == nil || strings.Contains(string(stored.Code.Hash), code) || len(stored.Code.Hash) != 32 {
		t.Fatalf("the code is not stored, or stored in the clear: %+v", stored.Code)
	}
	if strings.Contains(stored.Key, number) {
		t.Fatalf("the SMS state is keyed by the number in clear: %s", stored.Key)
	}
	if logs := env.Logs.String(); strings.Contains(logs, number) || strings.Contains(logs, `"`+code+`"`) || !strings.Contains(logs, "138****8000") {
		t.Fatalf("logs must mask the phone and never hold the code:\n%s", logs)
	}
	if a.RoundTrips != 4 {
		t.Errorf("send-sms took %d database round trips, want 4: phone, client, deployment, code", a.RoundTrips)
	}
}

func TestRoundTripsWithoutTheGlobalCap(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_GLOBAL_HOURLY_LIMIT"] = "0"
	a := send(sendSMS(env), number).Expect(t, 200, "OK")
	if a.RoundTrips != 3 {
		t.Errorf("send-sms took %d database round trips, budget is 3: phone, client, code", a.RoundTrips)
	}
}

func TestSendSMSBadInput(t *testing.T) {
	env := functest.New(t)
	f := sendSMS(env)
	tests := []struct {
		name   string
		req    functest.Request
		status int
		code   string
		field  string
	}{
		{"missing phone", functest.Request{Method: "POST", Path: "/send-sms", Body: `{}`}, 400, "INVALID_REQUEST", "phone"},
		{"empty body", functest.Request{Method: "POST", Path: "/send-sms", Body: ``}, 400, "INVALID_REQUEST", "phone"},
		{"phone as number", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":13800138000}`}, 400, "INVALID_REQUEST", "phone"},
		{"phone as operator", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":{"$gt":""}}`}, 400, "INVALID_REQUEST", "phone"},
		{"phone as regex", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":{"$regex":".*"}}`}, 400, "INVALID_REQUEST", "phone"},
		{"phone as array", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":["13800138000"]}`}, 400, "INVALID_REQUEST", "phone"},
		{"phone null", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":null}`}, 400, "INVALID_REQUEST", "phone"},
		{"unknown field", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"13800138000","ip":"1.1.1.1"}`}, 400, "INVALID_REQUEST", "ip"},
		{"body not an object", functest.Request{Method: "POST", Path: "/send-sms", Body: `"13800138000"`}, 400, "INVALID_REQUEST", ""},
		{"body not JSON", functest.Request{Method: "POST", Path: "/send-sms", Body: `phone=13800138000`}, 400, "INVALID_REQUEST", ""},
		{"too large", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"` + strings.Repeat("1", 17<<10) + `"}`}, 413, "PAYLOAD_TOO_LARGE", ""},
		{"empty phone", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":""}`}, 400, "INVALID_PHONE", ""},
		{"landline", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"02088888888"}`}, 400, "INVALID_PHONE", ""},
		{"foreign number", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"+85261234567"}`}, 400, "INVALID_PHONE", ""},
		{"ten digits", functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"1380013800"}`}, 400, "INVALID_PHONE", ""},
		{"wrong method", functest.Request{Method: "GET", Path: "/send-sms"}, 405, "METHOD_NOT_ALLOWED", ""},
		{"unknown route", functest.Request{Method: "POST", Path: "/send-sms/now", Body: `{}`}, 404, "NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.HTTP(tt.req).Expect(t, tt.status, tt.code)
			if tt.field != "" {
				a.Field(t, tt.field)
			}
		})
	}
	if n := len(env.SMS.Messages()); n != 0 {
		t.Fatalf("%d SMS sent for bad input", n)
	}
}

func TestCooldown(t *testing.T) {
	env := functest.New(t)
	// Start half a second before a cooldown window ends, so that the second
	// send falls in the next window and the rolling rule must catch it.
	start := env.Clock.Now().Truncate(time.Minute).Add(time.Minute - 500*time.Millisecond)
	env.Clock.Set(start)
	f := sendSMS(env)
	send(f, number).Expect(t, 200, "OK")
	env.Clock.Advance(time.Second)
	a := send(f, number).Expect(t, 429, "SMS_COOLDOWN")
	if got := a.Num("retryAfter"); got != 59 {
		t.Fatalf("retryAfter = %v, want 59", got)
	}
	env.Clock.Advance(30 * time.Second)
	if got := send(f, number).Expect(t, 429, "SMS_COOLDOWN").Num("retryAfter"); got != 29 {
		t.Fatalf("retryAfter = %v, want 29", got)
	}
	env.Clock.Advance(29 * time.Second)
	send(f, number).Expect(t, 200, "OK")
	// Another number is not held back.
	send(f, "13900139000").Expect(t, 200, "OK")
}

func TestPhoneCaps(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_COOLDOWN"] = "1s"
	env.Vars["SMS_PHONE_HOURLY_LIMIT"] = "2"
	env.Vars["SMS_PHONE_DAILY_LIMIT"] = "3"
	f := sendSMS(env)
	send(f, number).Expect(t, 200, "OK")
	env.Clock.Advance(10 * time.Minute)
	send(f, number).Expect(t, 200, "OK")
	env.Clock.Advance(time.Minute)
	a := send(f, number).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	// The first send leaves the hour 49 minutes from now.
	if got := a.Num("retryAfter"); got != 49*60 {
		t.Fatalf("hourly retryAfter = %v, want %d", got, 49*60)
	}
	env.Clock.Advance(49 * time.Minute)
	send(f, number).Expect(t, 200, "OK")
	env.Clock.Advance(2 * time.Hour)
	a = send(f, number).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	if got, want := a.Num("retryAfter"), (24*time.Hour - (2*time.Hour + 60*time.Minute)).Seconds(); got != want {
		t.Fatalf("daily retryAfter = %v, want %v", got, want)
	}
	if n := len(env.SMS.Messages()); n != 3 {
		t.Fatalf("%d SMS sent, want 3", n)
	}
}

func TestClientIPCap(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "2"
	f := sendSMS(env)
	send(f, "13800138001").Expect(t, 200, "OK")
	send(f, "13800138002").Expect(t, 200, "OK")
	send(f, "13800138003").Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	// A client-supplied X-Forwarded-For does not change who the client is.
	f.HTTP(functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"13800138004"}`,
		Headers: map[string]string{"x-forwarded-for": "192.0.2.1"}}).Expect(t, 429, "SMS_LIMIT_EXCEEDED")
	// Counted by the minute, the hour ends at most a minute later.
	env.Clock.Advance(time.Hour + time.Minute)
	send(f, "13800138003").Expect(t, 200, "OK")
}

func TestProviderFailureLetsTheUserRetryAtOnce(t *testing.T) {
	for _, failure := range []string{"FailedOperation.PhoneNumberInBlacklist", "status:FailedOperation.ContainSensitiveWord"} {
		t.Run(failure, func(t *testing.T) {
			env := functest.New(t)
			f := sendSMS(env)
			env.SMS.FailNext(failure)
			a := send(f, number).Expect(t, 502, "SMS_SEND_FAILED")
			if strings.Contains(a.Raw, "LimitExceeded") || strings.Contains(a.Raw, "InternalError") {
				t.Fatalf("provider detail leaked: %s", a.Raw)
			}
			if !strings.Contains(env.Logs.String(), strings.TrimPrefix(failure, "status:")) {
				t.Fatalf("provider failure not logged:\n%s", env.Logs.String())
			}
			send(f, number).Expect(t, 200, "OK")
		})
	}
}

func TestConcurrentSendsToOnePhoneSendOnce(t *testing.T) {
	env := functest.New(t)
	f := sendSMS(env)
	answers := make([]*functest.Answer, 20)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = send(f, number) }()
	}
	wg.Wait()
	ok := 0
	for _, a := range answers {
		switch a.Code {
		case "OK":
			ok++
		case "SMS_COOLDOWN":
		default:
			t.Fatalf("unexpected answer %s", a.Raw)
		}
	}
	if ok != 1 || len(env.SMS.Messages()) != 1 {
		t.Fatalf("%d OK answers and %d SMS, want exactly 1 each", ok, len(env.SMS.Messages()))
	}
}

func TestConcurrentSendsNeverExceedTheClientCap(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "5"
	f := sendSMS(env)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := send(f, fmt.Sprintf("138001380%02d", i))
			mu.Lock()
			defer mu.Unlock()
			if a.Code == "OK" {
				ok++
			} else if a.Code != "SMS_LIMIT_EXCEEDED" {
				t.Errorf("unexpected answer %s", a.Raw)
			}
		}()
	}
	wg.Wait()
	// Never above the cap; and the burst is not starved. (How many of the
	// five places a burst fills depends on timing; sequential sends fill
	// them exactly, see TestClientIPCap.)
	if ok < 1 || ok > 5 || len(env.SMS.Messages()) != ok {
		t.Fatalf("%d sends succeeded (%d SMS) under a cap of 5", ok, len(env.SMS.Messages()))
	}
}

func TestOtherEventKinds(t *testing.T) {
	env := functest.New(t)
	f := sendSMS(env)
	f.HTTP(functest.Request{Method: "POST", Path: "/send-sms", Body: `{"phone":"13800138001"}`, FunctionURL: true, Base64: true}).Expect(t, 200, "OK")
	a := f.Direct(map[string]any{"phone": "13800138002"}).Expect(t, 0, "OK")
	if a.Num("expiresIn") != 300 {
		t.Fatalf("direct answer %s", a.Raw)
	}
	f.Direct(map[string]any{"phone": "13800138002"}).Expect(t, 0, "SMS_COOLDOWN")
	f.Direct(map[string]any{"phone": 1}).Expect(t, 0, "INVALID_REQUEST").Field(t, "phone")
	f.Direct(map[string]any{"action": "delete", "phone": "13800138003"}).Expect(t, 0, "INVALID_REQUEST").Field(t, "action")
}

func TestWxCloudCallsAreCappedPerOpenID(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "1"
	f := sendSMS(env)
	caller := map[string]any{"appId": functest.AppID, "openId": "o-caller"}
	f.Direct(map[string]any{"phone": "13800138001", "userInfo": caller}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"phone": "13800138002", "userInfo": caller}).Expect(t, 0, "SMS_LIMIT_EXCEEDED")
}

func TestMisconfigurationIsInternalAndNamesTheVariable(t *testing.T) {
	tests := map[string]string{"SMS_SDK_APP_ID": "", "SMS_COOLDOWN": "soon", "JWT_SECRET": "short", "SMS_TEMPLATE_PARAMS": "code,name"}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			env := functest.New(t)
			env.Vars[name] = value
			a := send(sendSMS(env), number).Expect(t, 500, "INTERNAL")
			if strings.Contains(a.Raw, name) {
				t.Fatalf("the variable leaked to the client: %s", a.Raw)
			}
			if !strings.Contains(env.Logs.String(), name) {
				t.Fatalf("log does not name %s:\n%s", name, env.Logs.String())
			}
		})
	}
}

func TestRoundTripsStayTheSameForABusyClient(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "1000"
	now := env.Clock.Now()
	client := env.SMSKeys().Client("ip:" + functest.ClientIPAddr)
	for i := 0; i < 250; i++ {
		minute := strconv.FormatInt(now.Add(-time.Duration(i)*10*time.Second).Unix()/60, 10)
		if _, err := env.Store.CountSend(t.Context(), client, minute, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	a := send(sendSMS(env), number).Expect(t, 200, "OK")
	if a.RoundTrips != 4 {
		t.Fatalf("send-sms took %d round trips with 250 recent sends from the client, want 4", a.RoundTrips)
	}
}

func TestDatabaseDownIsServiceUnavailable(t *testing.T) {
	env := functest.New(t)
	env.DatabaseDown()
	a := send(sendSMS(env), number).Expect(t, 503, "SERVICE_UNAVAILABLE")
	if strings.Contains(a.Raw, "127.0.0.1") || !strings.Contains(env.Logs.String(), a.RequestID) {
		t.Fatalf("cause leaked or not logged: %s", a.Raw)
	}
	if len(env.SMS.Messages()) != 0 {
		t.Fatal("sent an SMS without recording it")
	}
}
