package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// stale is longer ago than REAUTH_WINDOW's default of 5m: a session that
// signed in this long ago needs a proof, as a stolen token would.
const stale = 6 * time.Minute

func phoneAndWeChat(number, openid, unionid string) func(*store.User) {
	return func(u *store.User) {
		u.CountryCode, u.Phone = "86", number
		u.WeChat = functest.WeChatOf(openid, unionid)
	}
}

// withProofHeader sends a request with the X-Auth-Proof header.
func withProofHeader(f *functest.Function, method, path, body, token, proof string) *functest.Answer {
	return f.HTTP(functest.Request{Method: method, Path: path, Body: body,
		Headers: map[string]string{"authorization": "Bearer " + token, "X-Auth-Proof": proof}})
}

// stateOf is what an identity change or a deletion would alter: the
// account's identities, tombstone, events and sessions, and the claims.
func stateOf(t *testing.T, env *functest.Env, acct *functest.Account) string {
	t.Helper()
	u := env.User(acct.User.ID)
	wx := "none"
	if u.WeChat != nil {
		wx = u.OpenIDIn(functest.AppID) + "/" + u.UnionID()
	}
	s := fmt.Sprintf("phone=%q wechat=%s deleted=%v events=%d sessions=%d", u.Phone, wx, u.IsDeleted(), len(u.Events), len(u.Sessions))
	for _, id := range []store.Identity{
		store.PhoneIdentity("86", phoneA), store.PhoneIdentity("86", phoneB),
		functest.OpenID("o-1"), store.UnionIDIdentity("u-1"), functest.OpenID("o-new"),
	} {
		if h := env.Holder(id); h != nil {
			s += fmt.Sprintf(" %s=%s", id, h.Hex())
		}
	}
	return s
}

func methodsOf(a *functest.Answer) string {
	list, _ := a.Get("methods").([]any)
	var out []string
	for _, m := range list {
		out = append(out, fmt.Sprint(m))
	}
	return strings.Join(out, ",")
}

// changes are the requests the proof rule guards, each on an account it
// applies to, and the methods that account can prove with.
var changes = []struct {
	name    string
	account func(*store.User)
	methods string
	http    func(env *functest.Env, f *functest.Function, token string) *functest.Answer
	direct  func(env *functest.Env, token string) map[string]any
}{
	{"bind a phone", wechatOnly("o-1"), "wechat",
		func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return bindPhone(f, token, phoneB, "654321")
		},
		func(env *functest.Env, token string) map[string]any {
			return map[string]any{"action": "bindPhone", "accessToken": token, "phone": phoneB, "code": "654321"}
		}},
	{"change the phone", phoneAndWeChat(phoneA, "o-1", "u-1"), "sms,wechat",
		func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return bindPhone(f, token, phoneB, "654321")
		},
		func(env *functest.Env, token string) map[string]any {
			return map[string]any{"action": "bindPhone", "accessToken": token, "phone": phoneB, "code": "654321"}
		}},
	{"unbind the phone", phoneAndWeChat(phoneA, "o-1", "u-1"), "sms,wechat",
		func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Do("DELETE", "/profile/phone", "", token)
		},
		func(env *functest.Env, token string) map[string]any {
			return map[string]any{"action": "unbindPhone", "accessToken": token}
		}},
	{"bind WeChat", phoneOnly(phoneA), "sms",
		func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
			return f.Post("/profile/wechat", functest.Body("loginCode", code), token)
		},
		func(env *functest.Env, token string) map[string]any {
			return map[string]any{"action": "bindWeChat", "accessToken": token, "loginCode": env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})}
		}},
	{"unbind WeChat", phoneAndWeChat(phoneA, "o-1", "u-1"), "sms,wechat",
		func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Do("DELETE", "/profile/wechat", "", token)
		},
		func(env *functest.Env, token string) map[string]any {
			return map[string]any{"action": "unbindWeChat", "accessToken": token}
		}},
	{"delete the account", phoneAndWeChat(phoneA, "o-1", "u-1"), "sms,wechat",
		func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Do("DELETE", "/profile", "", token)
		},
		func(env *functest.Env, token string) map[string]any {
			return map[string]any{"action": "delete", "accessToken": token}
		}},
}

// A stolen access token replayed after its session signed in: every
// identity change and the deletion are refused with the methods that
// would prove the account, and nothing changes, nothing is spent.
func TestAStaleSessionCannotChangeIdentitiesWithoutAProof(t *testing.T) {
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			f := profile(env)
			acct := env.SignUp(tt.account)
			env.SeedCode(phoneB, "654321")
			env.Clock.Advance(stale)
			before := stateOf(t, env, acct)

			a := tt.http(env, f, acct.AccessToken).Expect(t, 403, "REAUTH_REQUIRED")
			if methodsOf(a) != tt.methods {
				t.Errorf("methods %q, want %q: %s", methodsOf(a), tt.methods, a.Raw)
			}
			d := f.Direct(tt.direct(env, acct.AccessToken)).Expect(t, 0, "REAUTH_REQUIRED")
			if methodsOf(d) != tt.methods {
				t.Errorf("direct: methods %q, want %q", methodsOf(d), tt.methods)
			}
			if after := stateOf(t, env, acct); after != before {
				t.Fatalf("changed:\n%s\n%s", before, after)
			}
			if env.PhoneSMS(phoneB).Code == nil {
				t.Error("the new number's code was spent")
			}
			if n := env.WeChat.Calls("jscode2session"); n != 0 {
				t.Errorf("%d loginCodes exchanged before the proof was judged", n)
			}
			f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 200, "OK")
		})
	}
}

// A refresh is not a sign-in: the rotated tokens of a stale session still
// need a proof.
func TestARefreshDoesNotRenewTheSignIn(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
	env.Clock.Advance(stale)
	renewed, err := env.Sessions().Refresh(t.Context(), acct.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.Do("DELETE", "/profile/wechat", "", renewed.AccessToken).Expect(t, 403, "REAUTH_REQUIRED")
	// A new login is a sign-in.
	again := env.LogIn(acct.User)
	f.Do("DELETE", "/profile/wechat", "", again.AccessToken).Expect(t, 200, "OK")
}

// REAUTH_WINDOW=0 asks for a proof even right after signing in.
func TestReauthWindowZero(t *testing.T) {
	env := functest.New(t)
	env.Vars["REAUTH_WINDOW"] = "0"
	f := profile(env)
	acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
	f.Do("DELETE", "/profile/wechat", "", acct.AccessToken).Expect(t, 403, "REAUTH_REQUIRED")
	code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"})
	withProofHeader(f, "DELETE", "/profile/wechat", "", acct.AccessToken, `{"loginCode":"`+code+`"}`).Expect(t, 200, "OK")
}

func TestEachKindOfProof(t *testing.T) {
	t.Run("a recent sign-in", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(4 * time.Minute)
		f.Do("DELETE", "/profile/wechat", "", acct.AccessToken).Expect(t, 200, "OK")
		// The window is the session's, not spent by a change.
		code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
		f.Post("/profile/wechat", functest.Body("loginCode", code), acct.AccessToken).Expect(t, 200, "OK")
	})
	t.Run("an SMS code to the current phone", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		env.SeedCode(phoneA, "111111")
		env.SeedCode(phoneB, "222222")
		body := functest.Body("phone", phoneB, "code", "222222", "proof", map[string]any{"code": "111111"})
		a := f.Post("/profile/phone", body, acct.AccessToken).Expect(t, 200, "OK")
		if a.Str("user.phone") != phoneB {
			t.Fatalf("change: %s", a.Raw)
		}
		if env.PhoneSMS(phoneA).Code != nil {
			t.Fatal("the proof's code was not spent")
		}
	})
	t.Run("a wx.login code of the account's WeChat, in the X-Auth-Proof header", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1", UnionID: "u-1"})
		a := withProofHeader(f, "DELETE", "/profile/phone", "", acct.AccessToken, `{"loginCode":"`+code+`"}`).Expect(t, 200, "OK")
		if a.Get("user.phone") != nil {
			t.Fatalf("unbind: %s", a.Raw)
		}
	})
	t.Run("a wx.login code of the account's unionid, in a DELETE body", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		// The same person in another app of the same developer.
		code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1-in-another-app", UnionID: "u-1"})
		f.Do("DELETE", "/profile", functest.Body("proof", map[string]any{"loginCode": code}), acct.AccessToken).Expect(t, 200, "OK")
		if !env.User(acct.User.ID).IsDeleted() {
			t.Fatal("not deleted")
		}
	})
	t.Run("an SMS code in a DELETE body", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		env.SeedCode(phoneA, "111111")
		f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"111111"}}`, acct.AccessToken).Expect(t, 200, "OK")
	})
	t.Run("the wx.cloud caller that is the account's WeChat", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		caller := map[string]any{"appId": functest.AppID, "openId": "o-1"}
		f.Direct(map[string]any{"action": "unbindPhone", "accessToken": acct.AccessToken, "userInfo": caller}).Expect(t, 0, "OK")
		env.SeedCode(phoneB, "222222")
		f.Direct(map[string]any{"action": "bindPhone", "userInfo": caller, "phone": phoneB, "code": "222222"}).Expect(t, 0, "OK")
		f.Direct(map[string]any{"action": "delete", "userInfo": caller}).Expect(t, 0, "OK")
	})
	t.Run("a proof sent by a direct invocation", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneOnly(phoneA))
		env.Clock.Advance(stale)
		env.SeedCode(phoneA, "111111")
		code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
		a := f.Direct(map[string]any{"action": "bindWeChat", "accessToken": acct.AccessToken, "loginCode": code, "proof": map[string]any{"code": "111111"}}).Expect(t, 0, "OK")
		if a.Get("user.wechatBound") != true {
			t.Fatalf("bind: %s", a.Raw)
		}
	})
}

// A proof of somebody else's WeChat proves nothing of this account.
func TestAProofOfAnotherPersonsWeChat(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
	env.Clock.Advance(stale)
	before := stateOf(t, env, acct)
	for _, id := range []wechatsim.Identity{{OpenID: "o-thief"}, {OpenID: "o-thief", UnionID: "u-thief"}} {
		code := env.WeChat.NewLoginCode(id)
		a := withProofHeader(f, "DELETE", "/profile", "", acct.AccessToken, `{"loginCode":"`+code+`"}`).Expect(t, 403, "REAUTH_REQUIRED")
		if methodsOf(a) != "sms,wechat" {
			t.Fatalf("methods: %s", a.Raw)
		}
	}
	// The thief's own WeChat calling through wx.cloud with the stolen token.
	thief := map[string]any{"appId": functest.AppID, "openId": "o-thief"}
	f.Direct(map[string]any{"action": "unbindPhone", "accessToken": acct.AccessToken, "userInfo": thief}).Expect(t, 0, "REAUTH_REQUIRED")
	f.Direct(map[string]any{"action": "bindWeChat", "accessToken": acct.AccessToken, "userInfo": thief}).Expect(t, 0, "REAUTH_REQUIRED")
	// A code sent to another number is no proof of this one.
	env.SeedCode(phoneB, "222222")
	f.Do("DELETE", "/profile", `{"proof":{"code":"222222"}}`, acct.AccessToken).Expect(t, 401, "CODE_INVALID")
	if after := stateOf(t, env, acct); after != before {
		t.Fatalf("changed:\n%s\n%s", before, after)
	}

	// A proof the account cannot give is not asked of WeChat or SMS.
	phoneOnlyAcct := env.SignUp(phoneOnly(phoneB))
	env.Clock.Advance(stale)
	calls := env.WeChat.Calls("jscode2session")
	code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"})
	if a := f.Do("DELETE", "/profile", `{"proof":{"loginCode":"`+code+`"}}`, phoneOnlyAcct.AccessToken).Expect(t, 403, "REAUTH_REQUIRED"); methodsOf(a) != "sms" {
		t.Fatalf("methods: %s", a.Raw)
	}
	if env.WeChat.Calls("jscode2session") != calls {
		t.Fatal("a WeChat proof was exchanged for an account without WeChat")
	}
	wxOnly := env.SignUp(wechatOnly("o-solo"))
	env.Clock.Advance(stale)
	if a := f.Do("DELETE", "/profile", `{"proof":{"code":"123456"}}`, wxOnly.AccessToken).Expect(t, 403, "REAUTH_REQUIRED"); methodsOf(a) != "wechat" {
		t.Fatalf("methods: %s", a.Raw)
	}
}

// A proof is spent by the request that uses it: the same one again proves
// nothing, and of requests racing with one proof exactly one goes ahead.
func TestAProofWorksOnce(t *testing.T) {
	t.Run("SMS code", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		env.SeedCode(phoneA, "111111")
		f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"111111"}}`, acct.AccessToken).Expect(t, 200, "OK")
		before := stateOf(t, env, acct)
		code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new"})
		f.Post("/profile/wechat", functest.Body("loginCode", code, "proof", map[string]any{"code": "111111"}), acct.AccessToken).Expect(t, 401, "CODE_INVALID")
		if after := stateOf(t, env, acct); after != before {
			t.Fatalf("changed:\n%s\n%s", before, after)
		}
	})
	t.Run("wx.login code", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		proof := `{"loginCode":"` + env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"}) + `"}`
		withProofHeader(f, "DELETE", "/profile/phone", "", acct.AccessToken, proof).Expect(t, 200, "OK")
		withProofHeader(f, "DELETE", "/profile", "", acct.AccessToken, proof).Expect(t, 401, "WECHAT_CODE_INVALID")
		if env.User(acct.User.ID).IsDeleted() {
			t.Fatal("deleted with a spent proof")
		}
	})
	t.Run("at once", func(t *testing.T) {
		env := functest.New(t)
		f := profile(env)
		acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
		env.Clock.Advance(stale)
		env.SeedCode(phoneA, "111111")
		answers := make([]*functest.Answer, 6)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := []string{"/profile/phone", "/profile/wechat", "/profile"}[i%3]
				answers[i] = f.Do("DELETE", path, `{"proof":{"code":"111111"}}`, acct.AccessToken)
			}()
		}
		wg.Wait()
		ok := 0
		for _, a := range answers {
			if a.Code == "OK" {
				ok++
			}
		}
		if ok != 1 {
			var codes []string
			for _, a := range answers {
				codes = append(codes, a.Code)
			}
			t.Fatalf("%d changes went ahead on one proof: %v", ok, codes)
		}
	})
}

func TestProofBadInput(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_MAX_ATTEMPTS"] = "2"
	f := profile(env)
	acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
	env.Clock.Advance(stale)
	before := stateOf(t, env, acct)
	for _, body := range []string{
		`{"proof":"111111"}`, `{"proof":null}`, `{"proof":{}}`, `{"proof":{"code":111111}}`, `{"proof":{"code":""}}`,
		`{"proof":{"code":"111111","loginCode":"x"}}`, `{"proof":{"password":"x"}}`, `{"proof":[]}`,
	} {
		f.Do("DELETE", "/profile/wechat", body, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "proof")
	}
	for _, header := range []string{`111111`, `{"code":"1"} x`, `{"code":`} {
		withProofHeader(f, "DELETE", "/profile/wechat", "", acct.AccessToken, header).Expect(t, 400, "INVALID_REQUEST").Field(t, "proof")
	}
	withProofHeader(f, "DELETE", "/profile/wechat", `{"proof":{"code":"111111"}}`, acct.AccessToken, `{"code":"111111"}`).
		Expect(t, 400, "INVALID_REQUEST").Field(t, "proof")
	// Never read from the query string.
	f.Do("DELETE", `/profile/wechat?proof={"code":"111111"}`, "", acct.AccessToken).Expect(t, 403, "REAUTH_REQUIRED")
	// A wrong SMS code is judged as a login code is: attempts, then void.
	env.SeedCode(phoneA, "111111")
	if a := f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"000000"}}`, acct.AccessToken).Expect(t, 401, "CODE_INVALID"); a.Num("attemptsLeft") != 1 {
		t.Fatalf("attemptsLeft: %s", a.Raw)
	}
	f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"000000"}}`, acct.AccessToken).Expect(t, 401, "CODE_INVALID")
	f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"111111"}}`, acct.AccessToken).Expect(t, 429, "CODE_ATTEMPTS_EXCEEDED")
	f.Do("DELETE", "/profile/wechat", `{"proof":{"code":"111111"}}`, acct.AccessToken).Expect(t, 401, "CODE_INVALID")
	if after := stateOf(t, env, acct); after != before {
		t.Fatalf("changed:\n%s\n%s", before, after)
	}
}
