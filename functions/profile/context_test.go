package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
)

// TestCallerFromTheInvocationContext: a wx.cloud caller named only by the
// invocation's context needs no token, by openid or by unionid.
func TestCallerFromTheInvocationContext(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(func(u *store.User) { withPhone(u); u.WeChat = functest.WeChatOf("o-ctx", "u-ctx") })

	a := f.DirectIn(functest.WXCaller("o-ctx", ""), map[string]any{"action": "get"}).Expect(t, 0, "OK")
	if a.Str("user.id") != acct.User.ID.Hex() {
		t.Fatalf("get: %s", a.Raw)
	}
	// The same person from another app of the open-platform account.
	b := f.DirectIn(functest.WXCaller("o-other-app", "u-ctx"), map[string]any{"action": "update", "nickname": "云"}).Expect(t, 0, "OK")
	if b.Str("user.id") != acct.User.ID.Hex() || b.Str("user.nickname") != "云" {
		t.Fatalf("update by unionid: %s", b.Raw)
	}
	// No context, or a context naming someone without an account: no caller.
	f.Direct(map[string]any{"action": "get"}).Expect(t, 0, "UNAUTHORIZED")
	f.DirectIn(functest.WXCaller("o-nobody", "u-nobody"), map[string]any{"action": "get"}).Expect(t, 0, "UNAUTHORIZED")
	// A userInfo that names another user than the context is refused.
	f.DirectIn(functest.WXCaller("o-nobody", ""), map[string]any{
		"action": "get", "userInfo": map[string]any{"appId": functest.AppID, "openId": "o-ctx"},
	}).Expect(t, 0, "UNAUTHORIZED")
}
