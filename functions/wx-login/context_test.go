package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// TestCallerFromTheInvocationContext: a wx.cloud call on a platform that
// says who calls only in the invocation's context logs in with no code.
func TestCallerFromTheInvocationContext(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	a := f.DirectIn(functest.WXCaller("o-ctx", "u-ctx"), map[string]any{}).Expect(t, 0, "OK")
	if a.Get("isNewUser") != true || env.WeChat.Calls("jscode2session") != 0 {
		t.Fatalf("context login: %s (%d WeChat calls)", a.Raw, env.WeChat.Calls("jscode2session"))
	}
	u := env.UserOf(functest.OpenID("o-ctx"))
	if u == nil || u.ID.Hex() != a.Str("user.id") || env.Holder(store.UnionIDIdentity("u-ctx")) == nil {
		t.Fatalf("the account does not hold the caller's openid and unionid: %+v", u)
	}
	again := f.DirectIn(functest.WXCaller("o-ctx", "u-ctx"), map[string]any{"nickname": "云"}).Expect(t, 0, "OK")
	if again.Get("isNewUser") != false || again.Str("user.id") != a.Str("user.id") {
		t.Fatalf("a returning caller: %s", again.Raw)
	}
	if again.RoundTrips > 2 {
		t.Fatalf("a returning caller took %d round trips, the budget of wx-login is 2", again.RoundTrips)
	}
	// Without a context, the same process knows no caller.
	f.Direct(map[string]any{}).Expect(t, 0, "INVALID_REQUEST").Field(t, "code")
	// The context of another app is not trusted.
	f.DirectIn(functest.WXContext("WX_APPID", "wxother", "WX_OPENID", "o-ctx"), map[string]any{}).Expect(t, 0, "INVALID_REQUEST").Field(t, "code")
}

// TestCallerUnionIDResolvesTheAccount: WX_UNIONID finds the account as a
// unionid from jscode2session does.
func TestCallerUnionIDResolvesTheAccount(t *testing.T) {
	for _, by := range []string{"code", "context"} {
		t.Run("account made by "+by, func(t *testing.T) {
			env := functest.New(t)
			f := wxLogin(env)
			var first *functest.Answer
			if by == "code" {
				first = login(env, f, wechatsim.Identity{OpenID: "o-first", UnionID: "u-shared"}).Expect(t, 200, "OK")
			} else {
				first = f.DirectIn(functest.WXCaller("o-first", "u-shared"), map[string]any{}).Expect(t, 0, "OK")
			}
			// The same person through the unionid, as another app's openid.
			a := f.DirectIn(functest.WXCaller("o-second", "u-shared"), map[string]any{}).Expect(t, 0, "OK")
			if a.Get("isNewUser") != false || a.Str("user.id") != first.Str("user.id") {
				t.Fatalf("the unionid did not resolve the account: %s", a.Raw)
			}
			b := login(env, f, wechatsim.Identity{OpenID: "o-third", UnionID: "u-shared"}).Expect(t, 200, "OK")
			if b.Str("user.id") != first.Str("user.id") {
				t.Fatalf("jscode2session's unionid and WX_UNIONID resolve different accounts")
			}
		})
	}
}

// TestContextAndUserInfoMustAgree: a userInfo typed into the data of a call
// whose context names someone else is refused.
func TestContextAndUserInfoMustAgree(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	victim := env.SignUp(func(u *store.User) { u.WeChat = functest.WeChatOf("o-victim", "") })
	forged := map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-victim"}}
	f.DirectIn(functest.WXCaller("o-attacker", ""), forged).Expect(t, 0, "UNAUTHORIZED")
	f.DirectIn(functest.WXContext("WX_APPID", functest.AppID), forged).Expect(t, 0, "UNAUTHORIZED")
	if u := env.User(victim.User.ID); len(u.Sessions) != 1 {
		t.Fatalf("the victim's account gained a session: %d", len(u.Sessions))
	}
	agreeing := map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-victim"}}
	a := f.DirectIn(functest.WXCaller("o-victim", ""), agreeing).Expect(t, 0, "OK")
	if a.Str("user.id") != victim.User.ID.Hex() {
		t.Fatalf("an agreeing call logged into %s", a.Str("user.id"))
	}
}
