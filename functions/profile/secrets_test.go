package main

import (
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// Linking WeChat and proving with a loginCode exchange it for a
// session_key, which no log line of any level and no answer may hold,
// whatever the outcome.
func TestWeChatSecretsNeverReachLogsOrAnswers(t *testing.T) {
	env := functest.New(t)
	env.Vars["LOG_LEVEL"] = "debug"
	secrets := env.WatchWeChatSecrets()
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	code := func(openid string) string {
		return env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: openid, UnionID: "u-" + openid})
	}
	answers := []*functest.Answer{
		f.Post("/profile/wechat", functest.Body("loginCode", code("o-1")), acct.AccessToken).Expect(t, 200, "OK"),
		f.Post("/profile/wechat", functest.Body("loginCode", code("o-2")), acct.AccessToken).Expect(t, 409, "ACCOUNT_CONFLICT"),
	}
	env.Clock.Advance(stale)
	answers = append(answers,
		withProofHeader(f, "DELETE", "/profile/phone", "", acct.AccessToken, `{"loginCode":"`+code("o-thief")+`"}`).Expect(t, 403, "REAUTH_REQUIRED"),
		withProofHeader(f, "DELETE", "/profile/phone", "", acct.AccessToken, `{"loginCode":"`+code("o-1")+`"}`).Expect(t, 200, "OK"),
	)
	if secrets.Seen("session_key") < 4 {
		t.Fatalf("WeChat answered %d session keys: too few to prove anything", secrets.Seen("session_key"))
	}
	secrets.CheckAbsent(t, "the log", env.Logs.String())
	for i, a := range answers {
		secrets.CheckAbsent(t, fmt.Sprintf("answer %d", i+1), a.Raw)
	}
}
