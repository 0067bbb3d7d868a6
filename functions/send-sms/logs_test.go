package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// logLines decodes the JSON log lines written from offset on.
func logLines(t *testing.T, env *functest.Env, offset int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(env.Logs.String()[offset:]), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", raw)
		}
		lines = append(lines, line)
	}
	return lines
}

// Whatever the provider answers, every log line of the send names the
// request's id, none holds the phone number in clear (only masked), and a
// failure the client sees as a 5xx is logged with its cause.
func TestEveryLogLineOfASendIsMaskedAndNamesItsRequest(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(env *functest.Env, f *functest.Function)
		status  int
		code    string
	}{
		{"sent", nil, 200, "OK"},
		{"refused for the number", func(env *functest.Env, _ *functest.Function) {
			env.SMS.FailNext("FailedOperation.PhoneNumberInBlacklist")
		}, 502, "SMS_SEND_FAILED"},
		{"refused per number", func(env *functest.Env, _ *functest.Function) {
			env.SMS.FailNext("status:FailedOperation.ContainSensitiveWord")
		}, 502, "SMS_SEND_FAILED"},
		{"throttled by the provider", func(env *functest.Env, _ *functest.Function) {
			env.SMS.FailNext("status:LimitExceeded.PhoneNumberDailyLimit")
		}, 429, "SMS_LIMIT_EXCEEDED"},
		{"misconfigured", func(env *functest.Env, _ *functest.Function) {
			env.SMS.FailNext("FailedOperation.TemplateIncorrectOrUnapproved")
		}, 502, "SMS_SEND_FAILED"},
		{"provider error", func(env *functest.Env, _ *functest.Function) { env.SMS.FailNext("InternalError") }, 502, "SMS_SEND_FAILED"},
		{"outcome unknown", func(env *functest.Env, f *functest.Function) {
			// The provider answers after the send's budget (half a second
			// here): the SMS may be on its way.
			f.Timeout = 1500 * time.Millisecond
			env.SMS.SetDelay(time.Second)
		}, 502, "SMS_SEND_FAILED"},
		{"database down", func(env *functest.Env, _ *functest.Function) {}, 503, "SERVICE_UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			env.Vars["LOG_LEVEL"] = "debug"
			if tt.code == "SERVICE_UNAVAILABLE" {
				env.DatabaseDown()
			}
			f := sendSMS(env)
			if tt.prepare != nil {
				tt.prepare(env, f)
			}
			offset := len(env.Logs.String())
			a := send(f, "+86 138 0013 8000").Expect(t, tt.status, tt.code)
			lines := logLines(t, env, offset)
			for _, line := range lines {
				raw, _ := json.Marshal(line)
				if strings.Contains(strings.ReplaceAll(string(raw), " ", ""), number) {
					t.Errorf("a log line holds the phone in clear: %s", raw)
				}
				if line["requestId"] != a.RequestID {
					t.Errorf("a log line does not name the request %s: %s", a.RequestID, raw)
				}
				if line["msg"] == "request" || line["msg"] == "request failed" {
					if tt.status >= 500 && (line["level"] != "ERROR" || line["cause"] == nil || line["cause"] == "") {
						t.Errorf("a %d is not logged as an error with its cause: %s", tt.status, raw)
					}
				}
			}
			if len(lines) == 0 {
				t.Fatal("nothing logged")
			}
		})
	}
}
