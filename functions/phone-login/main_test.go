package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

const number = "13800138000"

func phoneLogin(env *functest.Env) *functest.Function { return env.Function("phone-login", newHandler) }

func login(f *functest.Function, phone, code string) *functest.Answer {
	return f.Post("/phone-login", functest.Body("phone", phone, "code", code), "")
}

func TestLoginCreatesThenFindsTheAccount(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	a := login(f, "+86 138 0013 8000", "123456").Expect(t, 200, "OK")
	if a.Get("isNewUser") != true || a.Str("tokenType") != "Bearer" || a.Num("expiresIn") != 7200 ||
		a.Num("refreshExpiresIn") != 720*3600 || a.Str("accessToken") == "" || a.Str("refreshToken") == "" {
		t.Fatalf("session = %s", a.Raw)
	}
	if a.Str("user.phone") != number || a.Str("user.countryCode") != "86" || a.Get("user.wechatBound") != false ||
		len(a.Str("user.id")) != 24 || a.Get("user.birthday") != nil || a.Num("user.points") != 0 {
		t.Fatalf("user = %v", a.Get("user"))
	}
	for _, secret := range []string{"openid", "unionid", "session_key", "sessionKey", "hash", "disabled"} {
		if strings.Contains(a.Raw, secret) {
			t.Fatalf("answer holds %q: %s", secret, a.Raw)
		}
	}
	if !strings.HasPrefix(a.Str("user.nickname"), "用户") || len([]rune(a.Str("user.nickname"))) != 8 {
		t.Errorf("new account's nickname %q, want 用户 and 6 letters or digits", a.Str("user.nickname"))
	}
	id := a.Str("user.id")

	env.SeedCode(number, "654321")
	b := login(f, number, "654321").Expect(t, 200, "OK")
	if b.Get("isNewUser") != false || b.Str("user.id") != id {
		t.Fatalf("second login: %s", b.Raw)
	}
	if b.RoundTrips != 3 {
		t.Errorf("a returning user's phone-login took %d database round trips, budget is 3 (claim, code, account)", b.RoundTrips)
	}
	if logs := env.Logs.String(); strings.Contains(logs, number) {
		t.Fatalf("logs hold the unmasked phone:\n%s", logs)
	}
}

func TestLoginBadInput(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"missing phone", `{"code":"123456"}`, 400, "INVALID_REQUEST", "phone"},
		{"missing code", `{"phone":"13800138000"}`, 400, "INVALID_REQUEST", "code"},
		{"code as number", `{"phone":"13800138000","code":123456}`, 400, "INVALID_REQUEST", "code"},
		{"code as operator", `{"phone":"13800138000","code":{"$ne":""}}`, 400, "INVALID_REQUEST", "code"},
		{"phone as operator", `{"phone":{"$gt":""},"code":"123456"}`, 400, "INVALID_REQUEST", "phone"},
		{"loginCode as number", `{"phone":"13800138000","code":"123456","loginCode":1}`, 400, "INVALID_REQUEST", "loginCode"},
		{"unknown field", `{"phone":"13800138000","code":"123456","admin":true}`, 400, "INVALID_REQUEST", "admin"},
		{"array body", `[{"phone":"13800138000","code":"123456"}]`, 400, "INVALID_REQUEST", ""},
		{"bad phone", `{"phone":"12345","code":"123456"}`, 400, "INVALID_PHONE", ""},
		{"short code", `{"phone":"13800138000","code":"12345"}`, 401, "CODE_INVALID", ""},
		{"letters", `{"phone":"13800138000","code":"12345a"}`, 401, "CODE_INVALID", ""},
		{"never sent", `{"phone":"13900139000","code":"123456"}`, 401, "CODE_INVALID", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.Post("/phone-login", tt.body, "").Expect(t, tt.status, tt.code)
			if tt.field != "" {
				a.Field(t, tt.field)
			}
		})
	}
	f.Do("GET", "/phone-login", "", "").Expect(t, 405, "METHOD_NOT_ALLOWED")
	f.Post("/phone-login/x", `{}`, "").Expect(t, 404, "NOT_FOUND")
	// None of that spent a try: the right code still works.
	login(f, number, "123456").Expect(t, 200, "OK")
}

func TestCodeIsSingleUse(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	login(f, number, "123456").Expect(t, 200, "OK")
	login(f, number, "123456").Expect(t, 401, "CODE_INVALID")
}

func TestCodeExpires(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	env.Clock.Advance(5*time.Minute + time.Second)
	login(f, number, "123456").Expect(t, 401, "CODE_INVALID")
}

func TestWrongTriesVoidTheCode(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_MAX_ATTEMPTS"] = "3"
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	for i, left := range []float64{2, 1, 0} {
		a := login(f, number, "000000").Expect(t, 401, "CODE_INVALID")
		if a.Num("attemptsLeft") != left {
			t.Fatalf("try %d: attemptsLeft = %v, want %v", i+1, a.Get("attemptsLeft"), left)
		}
	}
	login(f, number, "123456").Expect(t, 429, "CODE_ATTEMPTS_EXCEEDED")
	login(f, number, "123456").Expect(t, 401, "CODE_INVALID")
	// A new code works again.
	env.SeedCode(number, "222222")
	login(f, number, "222222").Expect(t, 200, "OK")
}

func TestRightCodeAfterSomeWrongTries(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	for i := 0; i < 4; i++ {
		login(f, number, "999999").Expect(t, 401, "CODE_INVALID")
	}
	login(f, number, "123456").Expect(t, 200, "OK")
}

func TestConcurrentLoginsWithOneCodeMakeOneSession(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	answers := make([]*functest.Answer, 20)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = login(f, number, "123456") }()
	}
	wg.Wait()
	ok := 0
	for _, a := range answers {
		switch a.Code {
		case "OK":
			ok++
		case "CODE_INVALID":
		default:
			t.Fatalf("unexpected answer %s", a.Raw)
		}
	}
	sessions := countSessions(t, env)
	if ok != 1 || sessions != 1 {
		t.Fatalf("%d logins succeeded and %d sessions exist, want exactly 1 each", ok, sessions)
	}
}

func TestConcurrentWrongGuessesGetNoMoreThanTheAllowedTries(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_MAX_ATTEMPTS"] = "3"
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); login(f, number, "000000") }()
	}
	wg.Wait()
	// However the burst interleaved, every try that found the code was
	// counted, and at most 3 were judged: after them the code is void (the
	// next try voids it, if the last judged one put it back).
	state := env.PhoneSMS(number)
	void := state.Code == nil || state.Judged >= 3
	// The right code now works only if fewer than 3 tries were judged.
	a := login(f, number, "123456")
	if !void && a.Code != "OK" {
		t.Fatalf("only %d tries judged, yet the right code failed: %s", state.Judged, a.Raw)
	}
	if void && a.Code == "OK" {
		t.Fatalf("the right code worked after %d judged tries", state.Judged)
	}
}

func countSessions(t *testing.T, env *functest.Env) int {
	t.Helper()
	holder := env.Holder(store.PhoneIdentity("86", number))
	if holder == nil {
		return 0
	}
	return len(env.User(*holder).Sessions)
}

func TestLoginCodeBindsWeChat(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	wx := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-bind", UnionID: "u-bind"})
	a := f.Post("/phone-login", functest.Body("phone", number, "code", "123456", "loginCode", wx), "").Expect(t, 200, "OK")
	if a.Get("user.wechatBound") != true {
		t.Fatalf("not bound: %s", a.Raw)
	}
	u := env.User(*env.Holder(functest.OpenID("o-bind")))
	if u.Phone != number || u.UnionID() != "u-bind" || *env.Holder(store.UnionIDIdentity("u-bind")) != u.ID {
		t.Fatalf("stored user %+v", u)
	}
	// A returning user whose mini-program sends its loginCode with every
	// SMS login costs what one without does.
	env.SeedCode(number, "654321")
	wx = env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-bind", UnionID: "u-bind"})
	b := f.Post("/phone-login", functest.Body("phone", number, "code", "654321", "loginCode", wx), "").Expect(t, 200, "OK")
	if b.Str("user.id") != u.ID.Hex() || b.RoundTrips != 3 {
		t.Errorf("returning login with a loginCode: account %s in %d round trips, want %s in 3", b.Str("user.id"), b.RoundTrips, u.ID.Hex())
	}
}

func TestLoginCodeOfABoundIdentityStillLogsIn(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	// The WeChat identity already belongs to another account.
	env.SeedCode("13900139000", "111111")
	first := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-taken"})
	f.Post("/phone-login", functest.Body("phone", "13900139000", "code", "111111", "loginCode", first), "").Expect(t, 200, "OK")

	env.SeedCode(number, "123456")
	second := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-taken"})
	a := f.Post("/phone-login", functest.Body("phone", number, "code", "123456", "loginCode", second), "").Expect(t, 200, "OK")
	if a.Get("user.wechatBound") != false {
		t.Fatalf("bound an identity held by another account: %s", a.Raw)
	}
	// Returning, the same: a login as any other, nothing to warn about.
	env.SeedCode(number, "654321")
	third := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-taken"})
	a = f.Post("/phone-login", functest.Body("phone", number, "code", "654321", "loginCode", third), "").Expect(t, 200, "OK")
	if a.Get("user.wechatBound") != false {
		t.Fatalf("bound an identity held by another account: %s", a.Raw)
	}
	if logs := env.Logs.String(); strings.Contains(logs, "WARN") {
		t.Fatalf("a login whose WeChat belongs to another account warned: %s", logs)
	}
}

func TestBadLoginCodeSpendsNothing(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	f.Post("/phone-login", functest.Body("phone", number, "code", "123456", "loginCode", "bogus"), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	login(f, number, "123456").Expect(t, 200, "OK")
}

func TestDirectInvocationFromWxCloudBindsTheCaller(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	a := f.Direct(map[string]any{
		"phone": number, "code": "123456",
		"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-cloud"},
	}).Expect(t, 0, "OK")
	if a.Get("user.wechatBound") != true {
		t.Fatalf("wx.cloud caller not bound: %s", a.Raw)
	}
	// The caller the platform vouches for wins over a loginCode sent along,
	// as in wx-login, and spares the call to WeChat.
	env.SeedCode("13900139000", "654321")
	b := f.Direct(map[string]any{
		"phone": "13900139000", "code": "654321",
		"loginCode": env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-someone-else"}),
		"userInfo":  map[string]any{"appId": functest.AppID, "openId": "o-cloud-2"},
	}).Expect(t, 0, "OK")
	if env.WeChat.Calls("jscode2session") != 0 {
		t.Fatal("the loginCode was exchanged although the platform named the caller")
	}
	if h := env.Holder(functest.OpenID("o-cloud-2")); h == nil || h.Hex() != b.Str("user.id") {
		t.Fatalf("the caller's openid is not the new account's: %v, %s", h, b.Raw)
	}
}

func TestDisabledAccountCannotLogIn(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	id := login(f, number, "123456").Expect(t, 200, "OK").Str("user.id")
	disable(t, env, id)
	env.SeedCode(number, "222222")
	login(f, number, "222222").Expect(t, 403, "ACCOUNT_DISABLED")
}

func disable(t *testing.T, env *functest.Env, id string) {
	t.Helper()
	oid, _ := bson.ObjectIDFromHex(id)
	if err := env.Store.SetDisabled(t.Context(), oid, true); err != nil {
		t.Fatal(err)
	}
}

func TestMoreErrorCodes(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		env := functest.New(t)
		phoneLogin(env).Post("/phone-login", `{"phone":"13800138000","code":"`+strings.Repeat("1", 17<<10)+`"}`, "").Expect(t, 413, "PAYLOAD_TOO_LARGE")
	})
	t.Run("loginCode without WeChat configured", func(t *testing.T) {
		env := functest.New(t)
		delete(env.Vars, "WECHAT_APPID")
		env.SeedCode(number, "123456")
		f := phoneLogin(env)
		f.Post("/phone-login", functest.Body("phone", number, "code", "123456", "loginCode", "x"), "").Expect(t, 500, "INTERNAL")
		if !strings.Contains(env.Logs.String(), "WECHAT_APPID") {
			t.Fatalf("log does not name WECHAT_APPID")
		}
		login(f, number, "123456").Expect(t, 200, "OK") // nothing was spent
	})
	t.Run("database down", func(t *testing.T) {
		env := functest.New(t)
		env.DatabaseDown()
		login(phoneLogin(env), number, "123456").Expect(t, 503, "SERVICE_UNAVAILABLE")
	})
}

// A crash between two writes of a first login (the claim of the phone
// written, the account not) leaves nothing unusable: the next login
// finds the claim, seals the creation cut short, and creates the account.
func TestFirstLoginCutShortIsSealedByTheNext(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	env.FailNextWrite("insert", "users")
	login(f, number, "123456").Expect(t, 503, "SERVICE_UNAVAILABLE")
	cut := env.Holder(store.PhoneIdentity("86", number))
	if cut == nil {
		t.Fatal("the claim was not written before the account: nothing to settle")
	}
	env.Clock.Advance(time.Minute) // the interrupted request is long gone
	env.SeedCode(number, "654321")
	a := login(f, number, "654321").Expect(t, 200, "OK")
	if a.Str("user.id") == cut.Hex() || a.Str("user.phone") != number || a.Get("isNewUser") != true {
		t.Fatalf("next login: %s, want a new account in place of %s", a.Raw, cut.Hex())
	}
	if !env.User(*cut).IsDeleted() {
		t.Fatal("the creation cut short was not sealed: it could still be completed")
	}
	if n, _ := env.Store.CountUsers(t.Context(), bson.D{{Key: "phone", Value: number}}); n != 1 {
		t.Fatalf("%d accounts with the phone, want 1", n)
	}
}

// A crash before the claim leaves nothing at all: the next login creates
// the account.
func TestFirstLoginCutShortBeforeTheClaim(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "123456")
	env.FailNextWrite("insert", "identities")
	login(f, number, "123456").Expect(t, 503, "SERVICE_UNAVAILABLE")
	if env.Holder(store.PhoneIdentity("86", number)) != nil {
		t.Fatal("a claim was left")
	}
	env.SeedCode(number, "654321")
	login(f, number, "654321").Expect(t, 200, "OK")
}

func loginWith(env *functest.Env, f *functest.Function, phone, code, openid string) *functest.Answer {
	wx := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: openid})
	return f.Post("/phone-login", functest.Body("phone", phone, "code", code, "loginCode", wx), "")
}

// Most mini-programs sign people up with WeChat first: their phone-login
// with a loginCode binds the phone to that account, never a second one.
func TestLoginCodeOfAWeChatOnlyAccountBindsThePhoneToIt(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	wxAcct := env.SignUp(func(u *store.User) { u.WeChat = functest.WeChatOf("o-first", "") })
	env.SeedCode(number, "123456")
	a := loginWith(env, f, number, "123456", "o-first").Expect(t, 200, "OK")
	if a.Str("user.id") != wxAcct.User.ID.Hex() || a.Get("isNewUser") != false || a.Str("user.phone") != number {
		t.Fatalf("login: %s", a.Raw)
	}
	if n, _ := env.Store.CountUsers(t.Context(), bson.D{}); n != 1 {
		t.Fatalf("%d accounts for one person", n)
	}
	// A wx.cloud caller the same.
	cloud := env.SignUp(func(u *store.User) { u.WeChat = functest.WeChatOf("o-cloud-first", "") })
	env.SeedCode("13900139000", "654321")
	b := f.Direct(map[string]any{"phone": "13900139000", "code": "654321",
		"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-cloud-first"}}).Expect(t, 0, "OK")
	if b.Str("user.id") != cloud.User.ID.Hex() || b.Str("user.phone") != "13900139000" {
		t.Fatalf("wx.cloud login: %s", b.Raw)
	}
}

func TestLoginCodeOfAPhoneOnlyAccountBindsWeChatToIt(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	acct := env.SignUp(func(u *store.User) { u.CountryCode, u.Phone = "86", number })
	env.SeedCode(number, "123456")
	a := loginWith(env, f, number, "123456", "o-later").Expect(t, 200, "OK")
	if a.Str("user.id") != acct.User.ID.Hex() || a.Get("user.wechatBound") != true {
		t.Fatalf("login: %s", a.Raw)
	}
}

func TestLoginCodeOfAnAccountWithAnotherPhone(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	wxAcct := env.SignUp(func(u *store.User) {
		u.CountryCode, u.Phone, u.WeChat = "86", "13900139000", functest.WeChatOf("o-has", "")
	})
	env.SeedCode(number, "123456")
	a := loginWith(env, f, number, "123456", "o-has").Expect(t, 200, "OK")
	// This number is the person's too, but the WeChat account has its own:
	// the number gets an account of its own, the WeChat one is unchanged.
	if a.Str("user.id") == wxAcct.User.ID.Hex() || a.Get("isNewUser") != true || a.Get("user.wechatBound") != false {
		t.Fatalf("login: %s", a.Raw)
	}
	if u := env.User(wxAcct.User.ID); u.Phone != "13900139000" {
		t.Fatalf("the WeChat account changed: %+v", u)
	}
}

// TestACreationTakenForCutShortLeavesOneAccount orders a first login with a
// loginCode against the person's wx-login: it claims the number for a new
// account, then finds the WeChat identity taken. Meanwhile a plain login of
// the number met that claim, waited, took the creation for cut short,
// sealed its id and created an account with the number. The first login
// then gives up its creation (its release misses the number's new claim)
// and, looking again, finds both sides with accounts: the phone's account
// logs in unchanged. One account with the number, never two, and the
// WeChat account keeps its own.
func TestACreationTakenForCutShortLeavesOneAccount(t *testing.T) {
	env := functest.New(t)
	f := phoneLogin(env)
	env.SeedCode(number, "111111")
	aboutToClaimPhone, letClaimPhone := env.HoldNextWrite("insert", "identities")
	first := make(chan *functest.Answer)
	go func() { first <- loginWith(env, f, number, "111111", "o-late") }()
	<-aboutToClaimPhone
	wx := env.SignUp(func(u *store.User) { u.WeChat = functest.WeChatOf("o-late", "") })
	aboutToClaimWeChat, letClaimWeChat := env.HoldNextWrite("insert", "identities")
	letClaimPhone()
	<-aboutToClaimWeChat
	env.SeedCode(number, "222222")
	completed := login(f, number, "222222").Expect(t, 200, "OK")
	letClaimWeChat()
	a := (<-first).Expect(t, 200, "OK")
	if a.Str("user.id") != completed.Str("user.id") || a.Str("user.phone") != number {
		t.Fatalf("first login: %s, want the phone's account %s", a.Raw, completed.Str("user.id"))
	}
	if n, _ := env.Store.CountUsers(t.Context(), bson.D{{Key: "phone", Value: number}}); n != 1 {
		t.Fatalf("%d accounts with the number, want 1", n)
	}
	if u := env.User(wx.User.ID); u.HasPhone() || !u.Holds(functest.OpenID("o-late")) {
		t.Fatalf("the WeChat account changed: %+v", u)
	}
}
