package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A mainland-looking number behind another country's prefix is not a
// mainland number: INVALID_PHONE, and the mainland number's code is not
// spent by it.
func TestAForeignPrefixIsAnInvalidPhone(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	for _, raw := range functest.ForeignPrefixed {
		t.Run(raw, func(t *testing.T) {
			login(f, raw, "123456").Expect(t, 400, "INVALID_PHONE")
			f.Direct(map[string]any{"phone": raw, "code": "123456"}).Expect(t, 0, "INVALID_PHONE")
		})
	}
	if state := env.PhoneSMS(number); state.Code == nil || state.Judged != 0 {
		t.Fatalf("a foreign number touched the mainland number's code: %+v", state)
	}
	login(f, number, "123456").Expect(t, 200, "OK")
}
