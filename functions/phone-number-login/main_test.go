package main

import (
	"go.mongodb.org/mongo-driver/v2/bson"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

const number = "13800138000"

func pnLogin(env *functest.Env) *functest.Function {
	return env.Function("phone-number-login", newHandler)
}

// tap is one tap on the phone-number button: a fresh login code for the
// WeChat user and a fresh phone code for the number.
func tap(env *functest.Env, f *functest.Function, openid, phone string) *functest.Answer {
	return f.Post("/phone-number-login", functest.Body(
		"loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: openid}),
		"phoneCode", env.WeChat.NewPhoneCode("86", phone),
	), "")
}

func userWith(t *testing.T, env *functest.Env, phone, openid string) *store.User {
	t.Helper()
	u := store.NewUser(env.Clock.Now())
	if phone != "" {
		u.CountryCode, u.Phone = "86", phone
	}
	if openid != "" {
		u.WeChat = functest.WeChatOf(openid, "")
	}
	return env.SignUp(func(s *store.User) { s.CountryCode, s.Phone, s.WeChat = u.CountryCode, u.Phone, u.WeChat }).User
}

func TestFirstLoginCreatesTheAccountWithBoth(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	const openid = "oPNL_first_login_openid"
	a := tap(env, f, openid, number).Expect(t, 200, "OK")
	if a.Get("isNewUser") != true || a.Str("user.phone") != number || a.Get("user.wechatBound") != true {
		t.Fatalf("answer %s", a.Raw)
	}
	if strings.Contains(a.Raw, openid) || strings.Contains(a.Raw, "simtoken") {
		t.Fatalf("answer leaks WeChat details: %s", a.Raw)
	}
	b := tap(env, f, openid, number).Expect(t, 200, "OK")
	if b.Get("isNewUser") != false || b.Str("user.id") != a.Str("user.id") {
		t.Fatalf("second login: %s", b.Raw)
	}
	// Warm, with the token cached: two WeChat calls per login.
	if got := env.WeChat.Calls("jscode2session") + env.WeChat.Calls("getuserphonenumber"); got != 4 {
		t.Fatalf("%d login and phone calls for 2 logins, want 4", got)
	}
	if got := env.WeChat.Calls("stable_token"); got != 1 {
		t.Fatalf("stable_token fetched %d times, want 1", got)
	}
	if b.RoundTrips != 4 {
		t.Errorf("returning phone-number-login took %d round trips, want 4 (token, two claims at once, account)", b.RoundTrips)
	}
}

func TestResolution(t *testing.T) {
	tests := []struct {
		name string
		// existing accounts: phone and openid of each
		existing [][2]string
		want     string // "login", "bind", or the conflict
		bindsTo  int    // index of the account that ends up holding both
	}{
		{"phone account without WeChat is bound", [][2]string{{number, ""}}, "bind", 0},
		{"WeChat account without phone is bound", [][2]string{{"", "o1"}}, "bind", 0},
		{"same account holds both", [][2]string{{number, "o1"}}, "login", 0},
		{"phone account bound to another WeChat", [][2]string{{number, "o-other"}}, "phone", -1},
		{"WeChat account with another phone", [][2]string{{"13900139000", "o1"}}, "wechat", -1},
		{"phone and WeChat on two accounts", [][2]string{{number, ""}, {"", "o1"}}, "phone", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			f := pnLogin(env)
			var users []*store.User
			for _, e := range tt.existing {
				users = append(users, userWith(t, env, e[0], e[1]))
			}
			before := snapshot(t, env, users)
			a := tap(env, f, "o1", number)
			switch tt.want {
			case "login", "bind":
				a.Expect(t, 200, "OK")
				if a.Str("user.id") != users[tt.bindsTo].ID.Hex() || a.Get("isNewUser") != false ||
					a.Str("user.phone") != number || a.Get("user.wechatBound") != true {
					t.Fatalf("answer %s", a.Raw)
				}
				u := env.UserOf(functest.OpenID("o1"))
				if u == nil || u.ID != users[tt.bindsTo].ID || u.Phone != number {
					t.Fatalf("stored %+v", u)
				}
			default:
				a.Expect(t, 409, "ACCOUNT_CONFLICT")
				if a.Str("conflict") != tt.want {
					t.Errorf("conflict = %q, want %q", a.Str("conflict"), tt.want)
				}
				if after := snapshot(t, env, users); after != before {
					t.Fatalf("a conflict changed accounts:\n%s\n%s", before, after)
				}
			}
		})
	}
}

func snapshot(t *testing.T, env *functest.Env, users []*store.User) string {
	t.Helper()
	var b strings.Builder
	for _, u := range users {
		got, err := env.Store.UserByID(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		wx := ""
		if got.WeChat != nil {
			wx = got.OpenIDIn(functest.AppID) + "/" + got.UnionID()
		}
		b.WriteString(got.ID.Hex() + " " + got.CountryCode + got.Phone + " " + wx + " " + got.UpdatedAt.String() + "\n")
	}
	return b.String()
}

func TestConcurrentFirstLoginsMakeOneAccount(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	bodies := make([]string, 20)
	for i := range bodies {
		bodies[i] = functest.Body(
			"loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-rush"}),
			"phoneCode", env.WeChat.NewPhoneCode("86", number))
	}
	answers := make([]*functest.Answer, len(bodies))
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = f.Post("/phone-number-login", bodies[i], "") }()
	}
	wg.Wait()
	created := 0
	for _, a := range answers {
		a.Expect(t, 200, "OK")
		if a.Str("user.id") != answers[0].Str("user.id") {
			t.Fatalf("two accounts for one person: %s vs %s", answers[0].Str("user.id"), a.Str("user.id"))
		}
		if a.Get("isNewUser") == true {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d answers created the account, want 1", created)
	}
	if n := env.WeChat.Calls("stable_token"); n != 1 {
		t.Fatalf("stable_token fetched %d times by 20 concurrent logins, want 1", n)
	}
}

func TestLegacyEncryptedData(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	loginCode := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-legacy"})
	data, iv, _ := env.WeChat.LegacyPhoneData(loginCode, "86", number, functest.AppID)
	a := f.Post("/phone-number-login", functest.Body("loginCode", loginCode, "encryptedData", data, "iv", iv), "").Expect(t, 200, "OK")
	if a.Str("user.phone") != number || a.Get("user.wechatBound") != true {
		t.Fatalf("answer %s", a.Raw)
	}
	if env.WeChat.Calls("stable_token")+env.WeChat.Calls("getuserphonenumber") != 0 {
		t.Fatal("the legacy flow needs no access token")
	}

	forgedCode := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-forge"})
	forged, forgedIV, _ := env.WeChat.LegacyPhoneData(forgedCode, "86", "13900139000", "wx0ther0app000000")
	f.Post("/phone-number-login", functest.Body("loginCode", forgedCode, "encryptedData", forged, "iv", forgedIV), "").Expect(t, 401, "WECHAT_CODE_INVALID")

	// Data encrypted for another login's session key.
	mine := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-mine"})
	theirs := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-theirs"})
	data, iv, _ = env.WeChat.LegacyPhoneData(theirs, "86", "13900139000", functest.AppID)
	f.Post("/phone-number-login", functest.Body("loginCode", mine, "encryptedData", data, "iv", iv), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	if env.UserOf(functest.OpenID("o-forge")) != nil {
		t.Fatal("a forged watermark created an account")
	}
}

func TestBadInput(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	tests := []struct {
		name, body, field string
	}{
		{"nothing", `{}`, "phoneCode"},
		{"loginCode only", `{"loginCode":"l"}`, "phoneCode"},
		{"phoneCode without loginCode", `{"phoneCode":"p"}`, "loginCode"},
		{"phoneCode and legacy data", `{"phoneCode":"p","loginCode":"l","encryptedData":"AAAA","iv":"AAAA"}`, "encryptedData"},
		{"encryptedData without iv", `{"loginCode":"l","encryptedData":"AAAA"}`, "iv"},
		{"iv without encryptedData", `{"loginCode":"l","iv":"AAAA"}`, "encryptedData"},
		{"phoneCode as number", `{"phoneCode":1,"loginCode":"l"}`, "phoneCode"},
		{"loginCode as object", `{"phoneCode":"p","loginCode":{"$gt":""}}`, "loginCode"},
		{"unknown field", `{"phoneCode":"p","loginCode":"l","phone":"13800138000"}`, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Post("/phone-number-login", tt.body, "").Expect(t, 400, "INVALID_REQUEST").Field(t, tt.field)
		})
	}
	loginCode := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o1"})
	f.Post("/phone-number-login", functest.Body("loginCode", loginCode, "encryptedData", "not base64!", "iv", "AAAAAAAAAAAAAAAAAAAAAA=="), "").
		Expect(t, 400, "INVALID_REQUEST").Field(t, "encryptedData")
}

func TestWeChatRejections(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	f.Post("/phone-number-login", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o1"}), "phoneCode", "bogus"), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	f.Post("/phone-number-login", functest.Body("loginCode", "bogus", "phoneCode", env.WeChat.NewPhoneCode("86", number)), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	env.WeChat.FailNext("getuserphonenumber", wechatsim.ErrRateLimited)
	tap(env, f, "o1", number).Expect(t, 429, "WECHAT_RATE_LIMITED")
	env.WeChat.FailNext("getuserphonenumber", wechatsim.ErrBusy)
	env.WeChat.FailNext("getuserphonenumber", wechatsim.ErrBusy)
	tap(env, f, "o1", number).Expect(t, 503, "WECHAT_UNAVAILABLE")
	// The access token was invalidated elsewhere: fetched again, once.
	tap(env, f, "o1", number).Expect(t, 200, "OK")
	env.WeChat.InvalidateAccessToken()
	tap(env, f, "o1", number).Expect(t, 200, "OK")
	if env.UserOf(functest.OpenID("o1")) == nil {
		t.Fatal("no account holds o1")
	}
}

func TestForeignNumber(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	a := f.Post("/phone-number-login", functest.Body(
		"loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-hk"}),
		"phoneCode", env.WeChat.NewPhoneCode("852", "61234567")), "").Expect(t, 200, "OK")
	if a.Str("user.phone") != "61234567" || a.Str("user.countryCode") != "852" {
		t.Fatalf("answer %s", a.Raw)
	}
}

// What WeChat vouches for is still checked before it is stored.
func TestMalformedNumberFromWeChat(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	for _, bad := range [][2]string{{"86", "12345678901"}, {"86", "1380013800"}, {"86", "1380013800a"}, {"+86", "13800138000"}, {"86", "138 0013 8000"}, {"1234567", "61234567"}} {
		a := f.Post("/phone-number-login", functest.Body(
			"loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-bad"}),
			"phoneCode", env.WeChat.NewPhoneCode(bad[0], bad[1])), "")
		a.Expect(t, 400, "INVALID_PHONE")
		if logs := env.Logs.String(); strings.Contains(logs, bad[1]) || strings.Contains(a.Raw, bad[1]) {
			t.Fatalf("the number %q reached the logs or the answer unmasked:\n%s\n%s", bad[1], a.Raw, logs)
		}
	}
	if env.UserOf(functest.OpenID("o-bad")) != nil {
		t.Fatal("an account was created")
	}
}

func TestDirectInvocation(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	caller := map[string]any{"appId": functest.AppID, "openId": "o-cloud"}
	a := f.Direct(map[string]any{"phoneCode": env.WeChat.NewPhoneCode("86", number), "userInfo": caller}).Expect(t, 0, "OK")
	if a.Str("user.phone") != number || env.WeChat.Calls("jscode2session") != 0 {
		t.Fatalf("wx.cloud login: %s", a.Raw)
	}
	if u := env.UserOf(functest.OpenID("o-cloud")); u == nil || u.Phone != number {
		t.Fatalf("stored %+v", u)
	}
	// Legacy data needs the login's session key, so a loginCode even here.
	f.Direct(map[string]any{"encryptedData": "AAAA", "iv": "AAAA", "userInfo": caller}).Expect(t, 0, "INVALID_REQUEST").Field(t, "loginCode")
	f.Direct(map[string]any{"phoneCode": "p", "userInfo": map[string]any{"appId": "wxother", "openId": "o"}}).Expect(t, 0, "INVALID_REQUEST").Field(t, "loginCode")
}

// A first login cut short after both claims, before the account, is
// sealed by the next one, which creates the account with both identities.
func TestFirstLoginCutShortIsSealedByTheNext(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	env.FailNextWrite("insert", "users")
	tap(env, f, "o-cut", number).Expect(t, 503, "SERVICE_UNAVAILABLE")
	cut := env.Holder(store.PhoneIdentity("86", number))
	if cut == nil || *env.Holder(functest.OpenID("o-cut")) != *cut {
		t.Fatal("claims not left as a creation cut short leaves them")
	}
	env.Clock.Advance(time.Minute)
	a := tap(env, f, "o-cut", number).Expect(t, 200, "OK")
	id, _ := bson.ObjectIDFromHex(a.Str("user.id"))
	u := env.User(id)
	if id == *cut || u.Phone != number || !u.HasWeChat() || !env.User(*cut).IsDeleted() {
		t.Fatalf("next login: %s, stored %+v", a.Raw, u)
	}
}

// The account of a phone-number login is noted beside the phone's SMS
// state, so that send-sms can refuse the phone of a disabled account.
func TestAccountIsNotedForSendSMS(t *testing.T) {
	env := functest.New(t)
	a := tap(env, pnLogin(env), "o-note", number).Expect(t, 200, "OK")
	if got := env.PhoneSMS(number).UserID; got == nil || got.Hex() != a.Str("user.id") {
		t.Fatalf("phone's SMS state names %v, want %s", got, a.Str("user.id"))
	}
}

// TestABindThatLosesToTheSameBindKeepsTheNumberHeld orders two taps of
// one person whose WeChat-only account gets the number: both find it free;
// the first claims it for the account; the second finds that claim the
// account's and binds the number first. The first's update then finds the
// account changed: it must not give back the claim the account now stands
// on, or a second account could take the number.
func TestABindThatLosesToTheSameBindKeepsTheNumberHeld(t *testing.T) {
	env := functest.New(t)
	f := pnLogin(env)
	const openid = "o-bind-twice"
	w := userWith(t, env, "", openid)
	firstLooked, letFirstClaim := env.HoldNextWrite("insert", "identities")
	first := make(chan *functest.Answer)
	go func() { first <- tap(env, f, openid, number) }()
	<-firstLooked
	secondLooked, letSecondClaim := env.HoldNextWrite("insert", "identities")
	second := make(chan *functest.Answer)
	go func() { second <- tap(env, f, openid, number) }()
	<-secondLooked
	firstClaimed, letFirstBind := env.HoldNextWrite("findAndModify", "users")
	letFirstClaim()
	<-firstClaimed // the first claimed the number and is about to bind it
	letSecondClaim()
	answers := []*functest.Answer{(<-second).Expect(t, 200, "OK")}
	letFirstBind()
	answers = append(answers, (<-first).Expect(t, 200, "OK"))
	for _, a := range answers {
		if a.Str("user.id") != w.ID.Hex() || a.Str("user.phone") != number || a.Get("isNewUser") != false {
			t.Fatalf("tap answered %s, want the WeChat account with the number", a.Raw)
		}
	}
	// The number is the account's: another WeChat user cannot take it.
	tap(env, f, "o-someone-else", number).Expect(t, 409, "ACCOUNT_CONFLICT")
}
