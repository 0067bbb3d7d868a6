package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// A proof that is sent is judged, even when the session signed in a
// moment ago and would need none: a wrong one is refused, counts as a
// try of the code, and nothing changes.
func TestASentProofIsJudgedEvenRightAfterSignIn(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1")) // signed in just now
	env.SeedCode(phoneA, "111111")
	before := stateOf(t, env, acct)
	a := f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"000000"}}`, acct.AccessToken).Expect(t, 401, "CODE_INVALID")
	if a.Num("attemptsLeft") != 4 {
		t.Fatalf("the wrong proof was not counted as a try: %s", a.Raw)
	}
	thief := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-thief"})
	withProofHeader(f, "DELETE", "/profile", "", acct.AccessToken, `{"loginCode":"`+thief+`"}`).Expect(t, 403, "REAUTH_REQUIRED")
	if after := stateOf(t, env, acct); after != before {
		t.Fatalf("changed:\n%s\n%s", before, after)
	}
	if state := env.PhoneSMS(phoneA); state.Code == nil || state.Judged != 1 {
		t.Fatalf("the phone's code: %+v, want it live with one judged try", state)
	}
}
