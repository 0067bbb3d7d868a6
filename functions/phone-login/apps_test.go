package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// An SMS login that comes with the WeChat login of another app (a second
// mini-program's loginCode, an H5 page's oauthCode) keeps one account per
// person as a loginCode of the first does.
func TestSMSLoginWithTheWeChatOfAnotherApp(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "111111")
	a := f.Post("/phone-login", functest.Body("phone", number, "code", "111111", "appId", functest.SecondMiniProgram,
		"loginCode", env.WeChat.NewLoginCodeFor(functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-m2", UnionID: "u-h"})), "").Expect(t, 200, "OK")
	env.SeedCode(number, "222222")
	b := f.Post("/phone-login", functest.Body("phone", number, "code", "222222", "appId", functest.OfficialAccount,
		"oauthCode", env.WeChat.NewOAuthCode(functest.OfficialAccount, wechatsim.Identity{OpenID: "o-oa", UnionID: "u-h"}, wechatsim.ScopeUserInfo)), "").Expect(t, 200, "OK")
	if a.Str("user.id") != b.Str("user.id") {
		t.Fatalf("two accounts for one person: %s and %s", a.Str("user.id"), b.Str("user.id"))
	}
	u := env.UserOf(store.PhoneIdentity("86", number))
	if !u.Holds(store.OpenIDIdentity(functest.SecondMiniProgram, "o-m2")) || !u.Holds(store.OpenIDIdentity(functest.OfficialAccount, "o-oa")) || u.UnionID() != "u-h" {
		t.Fatalf("account %+v, want both apps' openids and the unionid", u.WeChat)
	}
	env.SeedCode(number, "333333")
	f.Post("/phone-login", functest.Body("phone", number, "code", "333333", "appId", "wxnotours000000000", "loginCode", "x"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "appId")
	f.Post("/phone-login", functest.Body("phone", number, "code", "333333", "loginCode", "x", "oauthCode", "y"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "oauthCode")
	// Nothing was spent by the refusals.
	f.Post("/phone-login", functest.Body("phone", number, "code", "333333"), "").Expect(t, 200, "OK")
}
