package main

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// No session_key, access token or app secret WeChat handed the function
// reaches a log line of any level or an answer: not on success, and not
// on the error paths of the legacy data, where the session_key is used.
func TestWeChatSecretsNeverReachLogsOrAnswers(t *testing.T) {
	env := functest.New(t)
	env.Vars["LOG_LEVEL"] = "debug"
	secrets := env.WatchWeChatSecrets()
	f := pnLogin(env)
	var answers []*functest.Answer

	// getPhoneNumber with a login code: a session_key and an access token.
	answers = append(answers, tap(env, f, "o-new", number).Expect(t, 200, "OK"))

	// The legacy data, decrypted with the login's session_key.
	legacy := func(openid, phone, watermark string, mangle func(data, iv string) (string, string)) *functest.Answer {
		loginCode := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: openid})
		data, iv, ok := env.WeChat.LegacyPhoneData(loginCode, "86", phone, watermark)
		if !ok {
			t.Fatal("no legacy data")
		}
		if mangle != nil {
			data, iv = mangle(data, iv)
		}
		a := f.Post("/phone-number-login", functest.Body("loginCode", loginCode, "encryptedData", data, "iv", iv), "")
		answers = append(answers, a)
		return a
	}
	legacy("o-legacy", "13900139000", functest.AppID, nil).Expect(t, 200, "OK")
	// Cut by a block, the data ends inside the JSON text: its padding is
	// wrong under the right key, the path where the key is at hand.
	legacy("o-cut", "13700137000", functest.AppID, func(data, iv string) (string, string) {
		raw, _ := base64.StdEncoding.DecodeString(data)
		return base64.StdEncoding.EncodeToString(raw[:len(raw)-16]), iv
	}).Expect(t, 401, "WECHAT_CODE_INVALID")
	// Another IV garbles the first block: it decrypts, but not to JSON.
	legacy("o-iv", "13700137000", functest.AppID, func(data, _ string) (string, string) {
		return data, base64.StdEncoding.EncodeToString(make([]byte, 16))
	}).Expect(t, 401, "WECHAT_CODE_INVALID")
	// Made for another app.
	legacy("o-watermark", "13700137000", "wx0ther0app000000", nil).Expect(t, 401, "WECHAT_CODE_INVALID")
	// An IV that is not 16 bytes.
	legacy("o-badiv", "13700137000", functest.AppID, func(data, _ string) (string, string) {
		return data, "AAAA"
	}).Expect(t, 400, "INVALID_REQUEST").Field(t, "iv")

	if secrets.Seen("session_key") < 5 || secrets.Seen("access_token") < 1 {
		t.Fatalf("WeChat answered %d session keys and %d access tokens: the test saw too few to prove anything",
			secrets.Seen("session_key"), secrets.Seen("access_token"))
	}
	secrets.CheckAbsent(t, "the log", env.Logs.String())
	for i, a := range answers {
		secrets.CheckAbsent(t, fmt.Sprintf("answer %d", i+1), a.Raw)
	}
}
