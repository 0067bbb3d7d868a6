package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
)

// TestCallerFromTheInvocationContext: a wx.cloud caller named by the
// invocation's context needs no loginCode, and its unionid is bound with
// its openid.
func TestCallerFromTheInvocationContext(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	a := f.DirectIn(functest.WXCaller("o-ctx", "u-ctx"), map[string]any{"phoneCode": env.WeChat.NewPhoneCode("86", number)}).Expect(t, 0, "OK")
	if a.Str("user.phone") != number || env.WeChat.Calls("jscode2session") != 0 {
		t.Fatalf("context login: %s", a.Raw)
	}
	for _, id := range []store.Identity{functest.OpenID("o-ctx"), store.UnionIDIdentity("u-ctx")} {
		if h := env.Holder(id); h == nil || h.Hex() != a.Str("user.id") {
			t.Fatalf("%s is not the account's", id)
		}
	}
	f.Direct(map[string]any{"phoneCode": env.WeChat.NewPhoneCode("86", number)}).Expect(t, 0, "INVALID_REQUEST").Field(t, "loginCode")
}
