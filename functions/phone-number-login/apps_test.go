package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// A second mini-program's phone-number login uses that mini-program's
// codes and access token, and lands in the account its unionid shares
// with the first.
func TestPhoneNumberLoginFromASecondMiniProgram(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	first := f.Post("/phone-number-login", functest.Body(
		"loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1", UnionID: "u-1"}),
		"phoneCode", env.WeChat.NewPhoneCode("86", number)), "").Expect(t, 200, "OK")
	second := f.Post("/phone-number-login", functest.Body("appId", functest.SecondMiniProgram,
		"loginCode", env.WeChat.NewLoginCodeFor(functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-2", UnionID: "u-1"}),
		"phoneCode", env.WeChat.NewPhoneCode("86", number)), "").Expect(t, 200, "OK")
	if second.Str("user.id") != first.Str("user.id") {
		t.Fatalf("second mini-program: %s, want account %s", second.Raw, first.Str("user.id"))
	}
	if u := env.UserOf(store.OpenIDIdentity(functest.SecondMiniProgram, "o-2")); u == nil || u.ID.Hex() != first.Str("user.id") {
		t.Fatal("the second mini-program's openid was not added to the account")
	}
	// One stable_token per mini-program, each used for its own numbers.
	if n := env.WeChat.Calls("stable_token"); n != 2 {
		t.Fatalf("%d stable_token fetches for two mini-programs, want 2", n)
	}
	// A login code of one mini-program is not another's.
	f.Post("/phone-number-login", functest.Body("appId", functest.SecondMiniProgram,
		"loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-3"}),
		"phoneCode", env.WeChat.NewPhoneCode("86", "13900139000")), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	// getPhoneNumber is a mini-program's: other apps and unknown ones are refused.
	for _, app := range []string{functest.OfficialAccount, "wxnotours000000000"} {
		f.Post("/phone-number-login", functest.Body("appId", app, "loginCode", "x", "phoneCode", "y"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "appId")
	}
	// A wx.cloud caller names its own app.
	caller := map[string]any{"appId": functest.SecondMiniProgram, "openId": "o-2"}
	f.Direct(map[string]any{"phoneCode": env.WeChat.NewPhoneCode("86", number), "userInfo": caller}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"appId": functest.AppID, "phoneCode": "p", "userInfo": caller}).Expect(t, 0, "INVALID_REQUEST").Field(t, "appId")
}
