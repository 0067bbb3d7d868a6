package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
)

// TestCallerFromTheInvocationContextIsBound: phone-login from a wx.cloud
// caller named by the context binds its openid and unionid, as with a
// loginCode.
func TestCallerFromTheInvocationContextIsBound(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	a := f.DirectIn(functest.WXCaller("o-ctx", "u-ctx"), map[string]any{"phone": number, "code": "123456"}).Expect(t, 0, "OK")
	if a.Get("user.wechatBound") != true || env.WeChat.Calls("jscode2session") != 0 {
		t.Fatalf("context caller not bound: %s", a.Raw)
	}
	for _, id := range []store.Identity{functest.OpenID("o-ctx"), store.UnionIDIdentity("u-ctx")} {
		if h := env.Holder(id); h == nil || h.Hex() != a.Str("user.id") {
			t.Fatalf("%s is not the account's", id)
		}
	}
}
