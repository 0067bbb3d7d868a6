package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// Linking the WeChat of further apps adds their openids to the account;
// unlinking WeChat removes every one of them and the unionid, all free at
// once.
func TestLinkAndUnlinkTheWeChatOfSeveralApps(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	h5 := wechatsim.Identity{OpenID: "o-h5", UnionID: "u-1"}
	f.Post("/profile/wechat", functest.Body("appId", functest.OfficialAccount, "oauthCode",
		env.WeChat.NewOAuthCode(functest.OfficialAccount, h5, wechatsim.ScopeUserInfo)), acct.AccessToken).Expect(t, 200, "OK")
	a := f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-mp", UnionID: "u-1"})), acct.AccessToken).Expect(t, 200, "OK")
	apps, _ := a.Get("user.wechatApps").([]any)
	if len(apps) != 2 {
		t.Fatalf("wechatApps %v, want both apps", a.Get("user.wechatApps"))
	}
	// Another person's WeChat in an app the account has none of is still
	// refused when its unionid differs.
	f.Post("/profile/wechat", functest.Body("appId", functest.SecondMiniProgram, "loginCode",
		env.WeChat.NewLoginCodeFor(functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-other", UnionID: "u-2"})), acct.AccessToken).Expect(t, 409, "ACCOUNT_CONFLICT")
	b := f.Do("DELETE", "/profile/wechat", "", acct.AccessToken).Expect(t, 200, "OK")
	if b.Get("user.wechatBound") != false || len(b.Get("user.wechatApps").([]any)) != 0 {
		t.Fatalf("after unlink: %s", b.Raw)
	}
	for _, id := range []store.Identity{store.OpenIDIdentity(functest.OfficialAccount, "o-h5"), functest.OpenID("o-mp"), store.UnionIDIdentity("u-1")} {
		if env.Holder(id) != nil {
			t.Errorf("%s is still claimed after the unlink", id)
		}
	}
	env.CheckIdentities(false)
}

// A proof of the account's WeChat may come from any of its apps.
func TestAProofFromAnotherApp(t *testing.T) {
	env := functest.New(t)
	env.Vars["REAUTH_WINDOW"] = "0"
	f := profile(env)
	acct := env.SignUp(func(u *store.User) {
		phoneOnly(phoneA)(u)
		u.WeChat = functest.WeChatOf("o-mp", "u-9")
	})
	proof := `{"appId":"` + functest.Website + `","oauthCode":"` + env.WeChat.NewOAuthCode(functest.Website, wechatsim.Identity{OpenID: "o-web", UnionID: "u-9"}, wechatsim.ScopeLogin) + `"}`
	f.Post("/profile/phone", `{"phone":"`+phoneB+`","code":"123456","proof":`+proof+`}`, acct.AccessToken).Expect(t, 401, "CODE_INVALID")
	stranger := `{"appId":"` + functest.Website + `","oauthCode":"` + env.WeChat.NewOAuthCode(functest.Website, wechatsim.Identity{OpenID: "o-x", UnionID: "u-x"}, wechatsim.ScopeLogin) + `"}`
	f.Post("/profile/phone", `{"phone":"`+phoneB+`","code":"123456","proof":`+stranger+`}`, acct.AccessToken).Expect(t, 403, "REAUTH_REQUIRED")
	bad := `{"appId":"wxnotours000000000","loginCode":"x"}`
	f.Post("/profile/phone", `{"phone":"`+phoneB+`","code":"123456","proof":`+bad+`}`, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "appId")
}
