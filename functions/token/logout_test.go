package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// The token of a session that ended cannot end the others: a stolen token
// of a device the owner logged out is worth nothing, not even a logout of
// everywhere.
func TestAnEndedSessionCannotLogOutTheOthers(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	others := []*functest.Account{env.LogIn(acct.User), env.LogIn(acct.User)}
	f.Post("/token/logout", ``, acct.AccessToken).Expect(t, 200, "OK")
	f.Post("/token/logout", `{"all":true}`, acct.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	f.Direct(map[string]any{"action": "logout", "accessToken": acct.AccessToken, "all": true}).Expect(t, 0, "UNAUTHORIZED")
	for i, o := range others {
		if !alive(t, env, o.AccessToken) {
			t.Fatalf("device %d was logged out by an ended session's token", i)
		}
	}
	if n := len(env.User(acct.User.ID).Sessions); n != len(others) {
		t.Fatalf("%d sessions left, want %d", n, len(others))
	}
	for _, e := range env.User(acct.User.ID).Events {
		if e.Type == "logout-all" {
			t.Fatalf("a logout-all was recorded: %+v", e)
		}
	}
}
