package main

import (
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// The loginCode of a phone login is exchanged for a session_key, which no
// log line of any level and no answer may hold.
func TestWeChatSecretsNeverReachLogsOrAnswers(t *testing.T) {
	env := functest.New(t)
	env.Vars["LOG_LEVEL"] = "debug"
	secrets := env.WatchWeChatSecrets()
	f := phoneLogin(env)
	var answers []*functest.Answer
	for i, phone := range []string{"13800138000", "13900139000"} {
		env.SeedCode(phone, "123456")
		loginCode := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: fmt.Sprintf("o-%d", i)})
		answers = append(answers, f.Post("/phone-login", functest.Body("phone", phone, "code", "123456", "loginCode", loginCode), "").Expect(t, 200, "OK"))
	}
	// A wrong code after the exchange: the error path.
	env.SeedCode("13700137000", "123456")
	loginCode := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-wrong"})
	answers = append(answers, f.Post("/phone-login", functest.Body("phone", "13700137000", "code", "654321", "loginCode", loginCode), "").Expect(t, 401, "CODE_INVALID"))
	if secrets.Seen("session_key") < 3 {
		t.Fatalf("WeChat answered %d session keys: too few to prove anything", secrets.Seen("session_key"))
	}
	secrets.CheckAbsent(t, "the log", env.Logs.String())
	for i, a := range answers {
		secrets.CheckAbsent(t, fmt.Sprintf("answer %d", i+1), a.Raw)
	}
}
