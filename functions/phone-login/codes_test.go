package main

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A code is good for less than SMS_CODE_TTL: a moment before its expiry
// it logs in, at its expiry it is CODE_INVALID.
func TestACodeExpiresExactlyAtItsTTL(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after time.Duration
		code  string
	}{
		{"a millisecond before", 5*time.Minute - time.Millisecond, "OK"},
		{"at its expiry", 5 * time.Minute, "CODE_INVALID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			// On a whole millisecond, as the store keeps times, so that the
			// expiry is exactly five minutes on.
			env.Clock.Set(env.Clock.Now().Truncate(time.Millisecond).Add(time.Millisecond))
			f := phoneLogin(env)
			env.SeedCode(number, "123456")
			env.Clock.Advance(tt.after)
			if a := login(f, number, "123456"); a.Code != tt.code {
				t.Fatalf("got %s, want %s: %s", a.Code, tt.code, a.Raw)
			}
		})
	}
}

// Every refusal a user may meet at login is told in the contract's
// Chinese sentence, fit for wx.showToast as it is.
func TestRefusalsAreToldInChinese(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_MAX_ATTEMPTS"] = "1"
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	answers := []*functest.Answer{
		login(f, "12345", "123456").Expect(t, 400, "INVALID_PHONE"),
		f.Post("/phone-login", `{"phone":1}`, "").Expect(t, 400, "INVALID_REQUEST"),
		login(f, number, "000000").Expect(t, 401, "CODE_INVALID"),
		login(f, number, "123456").Expect(t, 429, "CODE_ATTEMPTS_EXCEEDED"),
		f.Do("GET", "/phone-login", "", "").Expect(t, 405, "METHOD_NOT_ALLOWED"),
		f.Post("/phone-login/x", `{}`, "").Expect(t, 404, "NOT_FOUND"),
		f.Post("/phone-login", `{"phone":"`+strings.Repeat("1", 17<<10)+`"}`, "").Expect(t, 413, "PAYLOAD_TOO_LARGE"),
		f.Post("/phone-login", functest.Body("phone", number, "code", "123456", "loginCode", "bogus"), "").Expect(t, 401, "WECHAT_CODE_INVALID"),
	}
	for _, a := range answers {
		if !strings.ContainsFunc(a.Message, func(r rune) bool { return unicode.Is(unicode.Han, r) }) ||
			strings.ContainsFunc(a.Message, func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }) {
			t.Errorf("%s: message %q is not a Chinese sentence", a.Code, a.Message)
		}
	}
}
