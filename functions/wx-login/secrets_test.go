package main

import (
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// No session_key or app secret reaches a log line of any level or an
// answer, whatever the login's outcome.
func TestWeChatSecretsNeverReachLogsOrAnswers(t *testing.T) {
	env := functest.New(t)
	env.Vars["LOG_LEVEL"] = "debug"
	secrets := env.WatchWeChatSecrets()
	f := wxLogin(env)
	answers := []*functest.Answer{
		login(env, f, wechatsim.Identity{OpenID: "o-new", UnionID: "u-new"}, "nickname", "新人").Expect(t, 200, "OK"),
		login(env, f, wechatsim.Identity{OpenID: "o-new", UnionID: "u-new"}).Expect(t, 200, "OK"),
		login(env, f, wechatsim.Identity{OpenID: "o-other"}).Expect(t, 200, "OK"),
	}
	env.WeChat.FailNext("jscode2session", wechatsim.ErrInvalidSecret)
	answers = append(answers, login(env, f, wechatsim.Identity{OpenID: "o-x"}).Expect(t, 500, "INTERNAL"))
	env.WeChat.FailNext("jscode2session", wechatsim.ErrBusy)
	env.WeChat.FailNext("jscode2session", wechatsim.ErrBusy)
	answers = append(answers, login(env, f, wechatsim.Identity{OpenID: "o-x"}).Expect(t, 503, "WECHAT_UNAVAILABLE"))

	if secrets.Seen("session_key") < 3 {
		t.Fatalf("WeChat answered %d session keys: too few to prove anything", secrets.Seen("session_key"))
	}
	secrets.CheckAbsent(t, "the log", env.Logs.String())
	for i, a := range answers {
		secrets.CheckAbsent(t, fmt.Sprintf("answer %d", i+1), a.Raw)
	}
}

// WeChat out of reach: the request the client could not make names the
// app secret in its URL, and neither the log nor the answer may repeat it.
func TestUnreachableWeChatDoesNotLeakTheAppSecret(t *testing.T) {
	env := functest.New(t)
	env.Vars["LOG_LEVEL"] = "debug"
	secrets := env.WatchWeChatSecrets()
	env.Vars["WECHAT_API_BASE"] = "http://127.0.0.1:1"
	a := wxLogin(env).Post("/wx-login", `{"code":"any-code"}`, "").Expect(t, 503, "WECHAT_UNAVAILABLE")
	secrets.CheckAbsent(t, "the log", env.Logs.String())
	secrets.CheckAbsent(t, "the answer", a.Raw)
}
