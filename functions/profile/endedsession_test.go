package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// The access token of a session that ended (a logout, or the owner
// revoking it from another device) is refused at once by every route, the
// cheap ones that check the session inside their one write included, and
// nothing changes.
func TestEveryRouteRefusesAnEndedSessionsToken(t *testing.T) {
	for _, end := range []string{"logout", "revoked from another device"} {
		t.Run(end, func(t *testing.T) {
			env := functest.New(t)
			f := profile(env)
			acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
			other := env.LogIn(acct.User)
			if end == "logout" {
				if err := env.Sessions().Logout(t.Context(), acct.AccessToken, false); err != nil {
					t.Fatal(err)
				}
			} else {
				f.Do("DELETE", "/profile/sessions/"+sessionOf(t, acct.AccessToken), "", other.AccessToken).Expect(t, 200, "OK")
			}
			env.SeedCode(phoneB, "222222")
			before := stateOf(t, env, acct) + " " + profileOf(t, env, acct)
			requests := []struct{ method, path, body string }{
				{"GET", "/profile", ""},
				{"PATCH", "/profile", `{"nickname":"小偷"}`},
				{"PUT", "/profile", `{"bio":"owned"}`},
				{"DELETE", "/profile", ""},
				{"POST", "/profile/phone", functest.Body("phone", phoneB, "code", "222222")},
				{"DELETE", "/profile/phone", ""},
				{"POST", "/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"}))},
				{"DELETE", "/profile/wechat", ""},
				{"GET", "/profile/sessions", ""},
				{"DELETE", "/profile/sessions/" + sessionOf(t, other.AccessToken), ""},
				{"GET", "/profile/security", ""},
			}
			for _, r := range requests {
				f.Do(r.method, r.path, r.body, acct.AccessToken).Expect(t, 401, "UNAUTHORIZED")
			}
			f.Direct(map[string]any{"action": "update", "accessToken": acct.AccessToken, "nickname": "小偷"}).Expect(t, 0, "UNAUTHORIZED")
			if after := stateOf(t, env, acct) + " " + profileOf(t, env, acct); after != before {
				t.Fatalf("changed:\n%s\n%s", before, after)
			}
			f.Do("GET", "/profile", "", other.AccessToken).Expect(t, 200, "OK")
		})
	}
}
