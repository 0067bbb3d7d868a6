package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

const (
	phoneA = "13800138000"
	phoneB = "13900139000"
)

func wechatOnly(openid string) func(*store.User) {
	return func(u *store.User) { u.WeChat = functest.WeChatOf(openid, "") }
}

func phoneOnly(number string) func(*store.User) {
	return func(u *store.User) { u.CountryCode, u.Phone = "86", number }
}

func bindPhone(f *functest.Function, token, number, code string) *functest.Answer {
	return f.Post("/profile/phone", functest.Body("phone", number, "code", code), token)
}

func TestBindPhoneToAWeChatAccount(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(wechatOnly("o-1"))
	env.SeedCode(phoneA, "123456")
	a := bindPhone(f, acct.AccessToken, "+86 138 0013 8000", "123456").Expect(t, 200, "OK")
	if a.Str("user.phone") != phoneA || a.Get("user.wechatBound") != true || a.Str("user.id") != acct.User.ID.Hex() {
		t.Fatalf("bind: %s", a.Raw)
	}
	if h := env.Holder(store.PhoneIdentity("86", phoneA)); h == nil || *h != acct.User.ID {
		t.Fatalf("phone claimed by %v, want the account", h)
	}
	// The session survives: the person is the same.
	f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 200, "OK")
	if logs := env.Logs.String(); !strings.Contains(logs, "phone linked") || strings.Contains(logs, phoneA) {
		t.Fatalf("the link is not logged, or not masked:\n%s", logs)
	}
	// Linking it again is no change.
	env.SeedCode(phoneA, "222222")
	bindPhone(f, acct.AccessToken, phoneA, "222222").Expect(t, 200, "OK")
}

func TestBindPhoneBadInput(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_MAX_ATTEMPTS"] = "2"
	f := profile(env)
	acct := env.SignUp(wechatOnly("o-1"))
	env.SeedCode(phoneA, "123456")
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"missing phone", `{"code":"123456"}`, 400, "INVALID_REQUEST", "phone"},
		{"missing code", `{"phone":"13800138000"}`, 400, "INVALID_REQUEST", "code"},
		{"code as number", `{"phone":"13800138000","code":123456}`, 400, "INVALID_REQUEST", "code"},
		{"unknown field", `{"phone":"13800138000","code":"123456","loginCode":"x"}`, 400, "INVALID_REQUEST", "loginCode"},
		{"bad phone", `{"phone":"12345","code":"123456"}`, 400, "INVALID_PHONE", ""},
		{"malformed code", `{"phone":"13800138000","code":"12a456"}`, 401, "CODE_INVALID", ""},
		{"never sent", `{"phone":"13900139000","code":"123456"}`, 401, "CODE_INVALID", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.Post("/profile/phone", tt.body, acct.AccessToken).Expect(t, tt.status, tt.code)
			if tt.field != "" {
				a.Field(t, tt.field)
			}
		})
	}
	f.Post("/profile/phone", `{"phone":"13800138000","code":"123456"}`, "").Expect(t, 401, "UNAUTHORIZED")
	f.Do("GET", "/profile/phone", "", acct.AccessToken).Expect(t, 405, "METHOD_NOT_ALLOWED")
	// The same attempt rules as phone-login.
	if a := bindPhone(f, acct.AccessToken, phoneA, "000000").Expect(t, 401, "CODE_INVALID"); a.Num("attemptsLeft") != 1 {
		t.Fatalf("attemptsLeft: %s", a.Raw)
	}
	bindPhone(f, acct.AccessToken, phoneA, "000000").Expect(t, 401, "CODE_INVALID")
	bindPhone(f, acct.AccessToken, phoneA, "123456").Expect(t, 429, "CODE_ATTEMPTS_EXCEEDED")
	if u := env.User(acct.User.ID); u.HasPhone() {
		t.Fatalf("phone bound without a code: %+v", u)
	}
}

func TestBindPhoneHeldByAnotherAccount(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	env.SignUp(phoneOnly(phoneA))
	acct := env.SignUp(wechatOnly("o-1"))
	env.SeedCode(phoneA, "123456")
	a := bindPhone(f, acct.AccessToken, phoneA, "123456").Expect(t, 409, "ACCOUNT_CONFLICT")
	if a.Str("conflict") != "phone" {
		t.Fatalf("conflict: %s", a.Raw)
	}
	// The code is used up all the same.
	env.Clock.Advance(10 * time.Second)
	bindPhone(f, acct.AccessToken, phoneA, "123456").Expect(t, 401, "CODE_INVALID")
	if env.User(acct.User.ID).HasPhone() {
		t.Fatal("the account got the phone")
	}
}

func TestChangePhone(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	env.SeedCode(phoneB, "123456")
	a := bindPhone(f, acct.AccessToken, phoneB, "123456").Expect(t, 200, "OK")
	if a.Str("user.phone") != phoneB {
		t.Fatalf("change: %s", a.Raw)
	}
	if env.Holder(store.PhoneIdentity("86", phoneA)) != nil {
		t.Fatal("the old number is still held")
	}
	if h := env.Holder(store.PhoneIdentity("86", phoneB)); h == nil || *h != acct.User.ID {
		t.Fatal("the new number is not held by the account")
	}
	f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 200, "OK")
	logs := env.Logs.String()
	if !strings.Contains(logs, `"from":"138****8000"`) || !strings.Contains(logs, `"to":"139****9000"`) || !strings.Contains(logs, acct.User.ID.Hex()) {
		t.Fatalf("the change is not logged with masked numbers and the account:\n%s", logs)
	}
}

func TestUnbindPhone(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	only := env.SignUp(phoneOnly(phoneA))
	f.Do("DELETE", "/profile/phone", "", only.AccessToken).Expect(t, 409, "LAST_IDENTITY")
	both := env.SignUp(func(u *store.User) { phoneOnly(phoneB)(u); wechatOnly("o-1")(u) })
	a := f.Do("DELETE", "/profile/phone", "", both.AccessToken).Expect(t, 200, "OK")
	if a.Get("user.phone") != nil || a.Get("user.wechatBound") != true {
		t.Fatalf("unbind: %s", a.Raw)
	}
	if env.Holder(store.PhoneIdentity("86", phoneB)) != nil {
		t.Fatal("the unlinked number is still held")
	}
	// Free at once for another account.
	env.SeedCode(phoneB, "123456")
	bindPhone(f, only.AccessToken, phoneB, "123456").Expect(t, 200, "OK")
}

func TestBindAndUnbindWeChat(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new", UnionID: "u-new"})
	a := f.Post("/profile/wechat", functest.Body("loginCode", code), acct.AccessToken).Expect(t, 200, "OK")
	if a.Get("user.wechatBound") != true || strings.Contains(a.Raw, "o-new") {
		t.Fatalf("bind: %s", a.Raw)
	}
	for _, id := range []store.Identity{functest.OpenID("o-new"), store.UnionIDIdentity("u-new")} {
		if h := env.Holder(id); h == nil || *h != acct.User.ID {
			t.Fatalf("%s not held by the account", id)
		}
	}
	// Another WeChat user for an account that has one: conflict.
	other := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-other"})
	f.Post("/profile/wechat", functest.Body("loginCode", other), acct.AccessToken).Expect(t, 409, "ACCOUNT_CONFLICT")
	// A WeChat user held by another account: conflict.
	second := env.SignUp(phoneOnly(phoneB))
	again := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
	if a := f.Post("/profile/wechat", functest.Body("loginCode", again), second.AccessToken).Expect(t, 409, "ACCOUNT_CONFLICT"); a.Str("conflict") != "wechat" {
		t.Fatalf("conflict: %s", a.Raw)
	}
	f.Post("/profile/wechat", `{}`, second.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "loginCode")
	f.Post("/profile/wechat", functest.Body("loginCode", "bogus"), second.AccessToken).Expect(t, 401, "WECHAT_CODE_INVALID")

	b := f.Do("DELETE", "/profile/wechat", "", acct.AccessToken).Expect(t, 200, "OK")
	if b.Get("user.wechatBound") != false || b.Str("user.phone") != phoneA {
		t.Fatalf("unbind: %s", b.Raw)
	}
	if env.Holder(functest.OpenID("o-new")) != nil || env.Holder(store.UnionIDIdentity("u-new")) != nil {
		t.Fatal("the unlinked WeChat user is still held")
	}
	wxOnly := env.SignUp(wechatOnly("o-solo"))
	f.Do("DELETE", "/profile/wechat", "", wxOnly.AccessToken).Expect(t, 409, "LAST_IDENTITY")
	// Free at once: the second account takes it.
	free := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
	f.Post("/profile/wechat", functest.Body("loginCode", free), second.AccessToken).Expect(t, 200, "OK")
}

// Without WECHAT_SECRET a loginCode cannot be exchanged: the operator is
// told which variable is missing, and the account is unchanged.
func TestBindWeChatWithoutWeChatConfigured(t *testing.T) {
	env := functest.New(t)
	delete(env.Vars, "WECHAT_SECRET")
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
	f.Post("/profile/wechat", functest.Body("loginCode", code), acct.AccessToken).Expect(t, 500, "INTERNAL")
	if !strings.Contains(env.Logs.String(), "WECHAT_SECRET") {
		t.Fatalf("log does not name WECHAT_SECRET:\n%s", env.Logs.String())
	}
	if a := f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 200, "OK"); a.Get("user.wechatBound") != false {
		t.Fatalf("account changed: %s", a.Raw)
	}
	if env.Holder(functest.OpenID("o-new")) != nil {
		t.Fatal("the WeChat user was claimed")
	}
}

func TestLinkActionsOfDirectInvocation(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	caller := map[string]any{"appId": functest.AppID, "openId": "o-cloud"}
	// A wx.cloud caller binds itself: no loginCode.
	a := f.Direct(map[string]any{"action": "bindWeChat", "accessToken": acct.AccessToken, "userInfo": caller}).Expect(t, 0, "OK")
	if a.Get("user.wechatBound") != true {
		t.Fatalf("bindWeChat: %s", a.Raw)
	}
	// From now on the platform's word identifies the caller.
	f.Direct(map[string]any{"action": "unbindPhone", "userInfo": caller}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"action": "unbindWeChat", "userInfo": caller}).Expect(t, 0, "LAST_IDENTITY")
	env.SeedCode(phoneB, "123456")
	b := f.Direct(map[string]any{"action": "bindPhone", "userInfo": caller, "phone": phoneB, "code": "123456"}).Expect(t, 0, "OK")
	if b.Str("user.phone") != phoneB {
		t.Fatalf("bindPhone: %s", b.Raw)
	}
	f.Direct(map[string]any{"action": "unbindWeChat", "accessToken": acct.AccessToken}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"action": "bindPhone", "accessToken": acct.AccessToken}).Expect(t, 0, "INVALID_REQUEST").Field(t, "phone")
}

// Two accounts bind one number with its one code at once: exactly one gets
// it, the other is told the number belongs to another account.
func TestConcurrentBindsOfOneNumber(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	accounts := []*functest.Account{env.SignUp(wechatOnly("o-1")), env.SignUp(wechatOnly("o-2"))}
	env.SeedCode(phoneA, "123456")
	answers := make([]*functest.Answer, len(accounts))
	var wg sync.WaitGroup
	for i, acct := range accounts {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = bindPhone(f, acct.AccessToken, phoneA, "123456") }()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, a := range answers {
		switch a.Code {
		case "OK":
			ok++
		case "ACCOUNT_CONFLICT":
			conflict++
		default:
			t.Fatalf("unexpected answer %s", a.Raw)
		}
	}
	holders := 0
	for _, acct := range accounts {
		if env.User(acct.User.ID).HasPhone() {
			holders++
		}
	}
	if ok != 1 || conflict != 1 || holders != 1 {
		t.Fatalf("%d OK, %d ACCOUNT_CONFLICT, %d accounts hold the number; want 1 each", ok, conflict, holders)
	}
}

// Unlinking the phone and WeChat of one account at once: one succeeds, the
// other would leave no way to log in.
func TestConcurrentUnlinksOfTheLastTwo(t *testing.T) {
	for round := 0; round < 5; round++ {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(func(u *store.User) { phoneOnly(phoneA)(u); wechatOnly("o-1")(u) })
		answers := make([]*functest.Answer, 2)
		var wg sync.WaitGroup
		for i, path := range []string{"/profile/phone", "/profile/wechat"} {
			wg.Add(1)
			go func() { defer wg.Done(); answers[i] = f.Do("DELETE", path, "", acct.AccessToken) }()
		}
		wg.Wait()
		codes := answers[0].Code + " " + answers[1].Code
		if codes != "OK LAST_IDENTITY" && codes != "LAST_IDENTITY OK" {
			t.Fatalf("answers %s, want one OK and one LAST_IDENTITY", codes)
		}
		if u := env.User(acct.User.ID); len(u.Identities()) == 0 {
			t.Fatal("the account was left with no way to log in")
		}
	}
}

// A link cut short after the claim (the account not yet updated) leaves a
// claim the next request settles: the account itself finishes the link at
// once; anyone else gets the number once the claim is old enough that the
// request that made it cannot still be running.
func TestLinkCutShort(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(wechatOnly("o-1"))
	env.SeedCode(phoneA, "123456")
	// The process dies after the claim: neither the account's update nor
	// the clean-up of the claim happen.
	env.FailNextWrite("findAndModify", "users")
	env.FailNextWrite("delete", "identities")
	bindPhone(f, acct.AccessToken, phoneA, "123456").Expect(t, 503, "SERVICE_UNAVAILABLE")
	if h := env.Holder(store.PhoneIdentity("86", phoneA)); h == nil || env.User(acct.User.ID).HasPhone() {
		t.Fatal("not the state a link cut short leaves")
	}
	other := env.SignUp(wechatOnly("o-2"))
	env.SeedCode(phoneA, "222222")
	env.Clock.Advance(time.Minute)
	bindPhone(f, other.AccessToken, phoneA, "222222").Expect(t, 200, "OK")
	if env.User(acct.User.ID).HasPhone() {
		t.Fatal("two accounts hold the number")
	}
	// The account whose link was cut short retries at once: it finishes.
	third := env.SignUp(wechatOnly("o-3"))
	env.SeedCode(phoneB, "333333")
	env.FailNextWrite("findAndModify", "users")
	env.FailNextWrite("delete", "identities")
	bindPhone(f, third.AccessToken, phoneB, "333333").Expect(t, 503, "SERVICE_UNAVAILABLE")
	env.SeedCode(phoneB, "444444")
	bindPhone(f, third.AccessToken, phoneB, "444444").Expect(t, 200, "OK")
}

// A change of number cut short before the old number is released leaves
// the account with the new one, and the old one free once settled.
func TestChangeCutShortBeforeTheRelease(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	env.SeedCode(phoneB, "123456")
	env.FailNextWrite("delete", "identities")
	bindPhone(f, acct.AccessToken, phoneB, "123456").Expect(t, 200, "OK")
	if env.Holder(store.PhoneIdentity("86", phoneA)) == nil {
		t.Fatal("the release did not fail as asked")
	}
	env.Clock.Advance(time.Minute)
	other := env.SignUp(wechatOnly("o-2"))
	env.SeedCode(phoneA, "222222")
	bindPhone(f, other.AccessToken, phoneA, "222222").Expect(t, 200, "OK")
	if u := env.User(acct.User.ID); u.Phone != phoneB {
		t.Fatalf("account phone %q, want the new one", u.Phone)
	}
}

// A deletion cut short before its identities are released leaves them to
// a tombstone: they are free at once for anyone.
func TestDeletionCutShortBeforeTheRelease(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	gone := env.SignUp(phoneOnly(phoneA))
	env.FailNextWrite("delete", "identities")
	f.Do("DELETE", "/profile", "", gone.AccessToken).Expect(t, 200, "OK")
	if env.Holder(store.PhoneIdentity("86", phoneA)) == nil {
		t.Fatal("the release did not fail as asked")
	}
	other := env.SignUp(wechatOnly("o-2"))
	env.SeedCode(phoneA, "123456")
	bindPhone(f, other.AccessToken, phoneA, "123456").Expect(t, 200, "OK")
}
