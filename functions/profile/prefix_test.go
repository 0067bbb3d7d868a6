package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A mainland-looking number behind another country's prefix is no
// mainland number: INVALID_PHONE, before any proof or code is judged.
func TestBindingAForeignPrefixedNumberIsAnInvalidPhone(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(wechatOnly("o-1"))
	env.SeedCode(phoneA, "123456")
	for _, raw := range functest.ForeignPrefixed {
		t.Run(raw, func(t *testing.T) {
			bindPhone(f, acct.AccessToken, raw, "123456").Expect(t, 400, "INVALID_PHONE")
			f.Direct(map[string]any{"action": "bindPhone", "accessToken": acct.AccessToken, "phone": raw, "code": "123456"}).Expect(t, 0, "INVALID_PHONE")
		})
	}
	if u := env.User(acct.User.ID); u.HasPhone() {
		t.Fatalf("a foreign-prefixed number was bound: %+v", u)
	}
	if state := env.PhoneSMS(phoneA); state.Code == nil || state.Judged != 0 {
		t.Fatalf("a foreign number touched the mainland number's code: %+v", state)
	}
	bindPhone(f, acct.AccessToken, phoneA, "123456").Expect(t, 200, "OK")
}
