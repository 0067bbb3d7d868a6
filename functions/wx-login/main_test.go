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

func wxLogin(env *functest.Env) *functest.Function { return env.Function("wx-login", newHandler) }

func login(env *functest.Env, f *functest.Function, id wechatsim.Identity, extra ...any) *functest.Answer {
	code := env.WeChat.NewLoginCode(id)
	return f.Post("/wx-login", functest.Body(append([]any{"code", code}, extra...)...), "")
}

func TestNewThenReturningUser(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	const openid = "oWX_new_then_returning"
	a := login(env, f, wechatsim.Identity{OpenID: openid}, "nickname", "小微", "avatarUrl", "https://thirdwx.qlogo.cn/a.png").Expect(t, 200, "OK")
	if a.Get("isNewUser") != true || a.Get("user.wechatBound") != true || a.Get("user.phone") != nil ||
		a.Str("user.nickname") != "小微" || a.Str("user.avatarUrl") != "https://thirdwx.qlogo.cn/a.png" {
		t.Fatalf("new user: %s", a.Raw)
	}
	if strings.Contains(a.Raw, "session_key") || strings.Contains(a.Raw, openid) {
		t.Fatalf("answer exposes WeChat identity or session key: %s", a.Raw)
	}
	if env.WeChat.Calls("jscode2session") != 1 {
		t.Fatalf("%d WeChat calls, want 1", env.WeChat.Calls("jscode2session"))
	}
	if a.RoundTrips != 3 {
		t.Errorf("new wx-login took %d round trips, want 3 (lookup, insert, session)", a.RoundTrips)
	}
	b := login(env, f, wechatsim.Identity{OpenID: openid}, "nickname", "改名").Expect(t, 200, "OK")
	if b.Get("isNewUser") != false || b.Str("user.id") != a.Str("user.id") || b.Str("user.nickname") != "小微" {
		t.Fatalf("returning user: %s", b.Raw)
	}
	if b.RoundTrips != 2 {
		t.Errorf("returning wx-login took %d round trips, want 2 (lookup, session)", b.RoundTrips)
	}
	if env.WeChat.Calls("jscode2session") != 2 {
		t.Fatalf("%d WeChat calls for 2 logins", env.WeChat.Calls("jscode2session"))
	}
}

func TestSessionKeyIsNeverKeptOrLogged(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	a := login(env, f, wechatsim.Identity{OpenID: "o1"}).Expect(t, 200, "OK")
	id, _ := bson.ObjectIDFromHex(a.Str("user.id"))
	u, err := env.Store.UserByID(t.Context(), id)
	if err != nil || u.OpenIDIn(functest.AppID) != "o1" {
		t.Fatalf("stored %+v %v", u, err)
	}
	if strings.Contains(env.Logs.String(), "session_key") || strings.Contains(strings.ToLower(env.Logs.String()), "sessionkey") {
		t.Fatalf("logs mention the session key:\n%s", env.Logs.String())
	}
}

func TestUnionID(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	first := login(env, f, wechatsim.Identity{OpenID: "o-app1"}).Expect(t, 200, "OK")
	// WeChat starts reporting a unionid (the app joined an open platform).
	login(env, f, wechatsim.Identity{OpenID: "o-app1", UnionID: "u1"}).Expect(t, 200, "OK")
	u, err := env.UserOf(functest.OpenID("o-app1")), error(nil)
	if err != nil || u.UnionID() != "u1" {
		t.Fatalf("unionid not recorded: %+v %v", u, err)
	}
	// The same person, seen through another app of the developer, is the
	// same account.
	c := login(env, f, wechatsim.Identity{OpenID: "o-app2", UnionID: "u1"}).Expect(t, 200, "OK")
	if c.Str("user.id") != first.Str("user.id") || c.Get("isNewUser") != false {
		t.Fatalf("unionid did not find the account: %s", c.Raw)
	}
}

func TestNameAndAvatarFillOnlyEmptyFields(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	first := login(env, f, wechatsim.Identity{OpenID: "o1"}).Expect(t, 200, "OK")
	generated := first.Str("user.nickname")
	if !strings.HasPrefix(generated, "用户") || len([]rune(generated)) != 8 {
		t.Fatalf("sign-up without a nickname got %q, want a generated one", generated)
	}
	a := login(env, f, wechatsim.Identity{OpenID: "o1"}, "nickname", "后来", "avatarUrl", "cloud://env/a.png").Expect(t, 200, "OK")
	if a.Str("user.nickname") != generated || a.Str("user.avatarUrl") != "cloud://env/a.png" {
		t.Fatalf("want the empty avatar filled and the nickname kept: %s", a.Raw)
	}
	b := login(env, f, wechatsim.Identity{OpenID: "o1"}, "avatarUrl", "cloud://env/b.png").Expect(t, 200, "OK")
	if b.Str("user.avatarUrl") != "cloud://env/a.png" {
		t.Fatalf("existing avatar overwritten: %s", b.Raw)
	}
}

func TestBadInput(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	tests := []struct {
		name, body, field string
	}{
		{"missing code", `{}`, "code"},
		{"empty code", `{"code":""}`, "code"},
		{"code as number", `{"code":1}`, "code"},
		{"code as operator", `{"code":{"$ne":""}}`, "code"},
		{"nickname too long", `{"code":"c","nickname":"` + strings.Repeat("名", 21) + `"}`, "nickname"},
		{"blank nickname", `{"code":"c","nickname":"  "}`, "nickname"},
		{"avatar over http", `{"code":"c","avatarUrl":"http://a.com/a.png"}`, "avatarUrl"},
		{"unknown field", `{"code":"c","openid":"o1"}`, "openid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Post("/wx-login", tt.body, "").Expect(t, 400, "INVALID_REQUEST").Field(t, tt.field)
		})
	}
	if n := env.WeChat.Calls("jscode2session"); n != 0 {
		t.Fatalf("bad input reached WeChat %d times", n)
	}
	f.Do("GET", "/wx-login", "", "").Expect(t, 405, "METHOD_NOT_ALLOWED")
}

func TestWeChatErrors(t *testing.T) {
	tests := []struct {
		name    string
		fail    []int
		status  int
		code    string
		logHint string
	}{
		{"invalid code", []int{wechatsim.ErrInvalidCode}, 401, "WECHAT_CODE_INVALID", ""},
		{"used code", []int{wechatsim.ErrCodeUsed}, 401, "WECHAT_CODE_INVALID", ""},
		{"rate limited", []int{wechatsim.ErrRateLimited}, 429, "WECHAT_RATE_LIMITED", ""},
		{"busy twice", []int{wechatsim.ErrBusy, wechatsim.ErrBusy}, 503, "WECHAT_UNAVAILABLE", ""},
		{"busy once is retried", []int{wechatsim.ErrBusy}, 200, "OK", ""},
		{"invalid appid", []int{wechatsim.ErrInvalidAppID}, 500, "INTERNAL", "WECHAT_APPID"},
		{"invalid secret", []int{wechatsim.ErrInvalidSecret}, 500, "INTERNAL", "WECHAT_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			for _, c := range tt.fail {
				env.WeChat.FailNext("jscode2session", c)
			}
			a := login(env, wxLogin(env), wechatsim.Identity{OpenID: "o1"}).Expect(t, tt.status, tt.code)
			if strings.Contains(a.Raw, "errcode") || strings.Contains(a.Raw, functest.AppSecret) {
				t.Fatalf("WeChat detail leaked: %s", a.Raw)
			}
			if tt.logHint != "" && !strings.Contains(env.Logs.String(), tt.logHint) {
				t.Fatalf("log does not name %s:\n%s", tt.logHint, env.Logs.String())
			}
			if strings.Contains(env.Logs.String(), functest.AppSecret) {
				t.Fatalf("the app secret reached the log")
			}
		})
	}
	t.Run("unknown code", func(t *testing.T) {
		env := functest.New(t)
		wxLogin(env).Post("/wx-login", `{"code":"not-a-real-code"}`, "").Expect(t, 401, "WECHAT_CODE_INVALID")
	})
	t.Run("reused code", func(t *testing.T) {
		env := functest.New(t)
		f := wxLogin(env)
		code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o1"})
		f.Post("/wx-login", functest.Body("code", code), "").Expect(t, 200, "OK")
		f.Post("/wx-login", functest.Body("code", code), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	})
}

func TestMissingWeChatConfiguration(t *testing.T) {
	env := functest.New(t)
	delete(env.Vars, "WECHAT_SECRET")
	wxLogin(env).Post("/wx-login", `{"code":"c"}`, "").Expect(t, 500, "INTERNAL")
	if !strings.Contains(env.Logs.String(), "WECHAT_SECRET") {
		t.Fatalf("log does not name WECHAT_SECRET")
	}
}

func TestConcurrentFirstLoginsMakeOneAccount(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	codes := make([]string, 20)
	for i := range codes {
		codes[i] = env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-rush", UnionID: "u-rush"})
	}
	answers := make([]*functest.Answer, len(codes))
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = f.Post("/wx-login", functest.Body("code", codes[i]), "") }()
	}
	wg.Wait()
	newUsers := 0
	for _, a := range answers {
		a.Expect(t, 200, "OK")
		if a.Str("user.id") != answers[0].Str("user.id") {
			t.Fatalf("two accounts for one person")
		}
		if a.Get("isNewUser") == true {
			newUsers++
		}
	}
	if newUsers != 1 {
		t.Fatalf("%d answers said new user, want 1", newUsers)
	}
}

func TestDirectInvocation(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	a := f.Direct(map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-cloud"}}).Expect(t, 0, "OK")
	if a.Get("isNewUser") != true || env.WeChat.Calls("jscode2session") != 0 {
		t.Fatalf("wx.cloud login: %s (%d WeChat calls)", a.Raw, env.WeChat.Calls("jscode2session"))
	}
	if env.UserOf(functest.OpenID("o-cloud")) == nil {
		t.Fatal("no account holds o-cloud")
	}
	f.Direct(map[string]any{"userInfo": map[string]any{"appId": "wxother", "openId": "o-cloud"}}).Expect(t, 0, "INVALID_REQUEST").Field(t, "code")
	code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-invoke"})
	f.Direct(map[string]any{"code": code}).Expect(t, 0, "OK")
	// A userInfo inside an HTTP body is dropped: a code is still required.
	f.Post("/wx-login", `{"userInfo":{"appId":"`+functest.AppID+`","openId":"o-cloud"}}`, "").Expect(t, 400, "INVALID_REQUEST").Field(t, "code")
}

func TestDisabledAccount(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	env.SignUp(func(u *store.User) { u.WeChat, u.Disabled = functest.WeChatOf("o-banned", ""), true })
	login(env, f, wechatsim.Identity{OpenID: "o-banned"}).Expect(t, 403, "ACCOUNT_DISABLED")
}

// A first login cut short after the claims, before the account, is
// sealed by the next login of that WeChat user, which creates the account.
func TestFirstLoginCutShortIsSealedByTheNext(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	env.FailNextWrite("insert", "users")
	login(env, f, wechatsim.Identity{OpenID: "o-cut", UnionID: "u-cut"}).Expect(t, 503, "SERVICE_UNAVAILABLE")
	cut := env.Holder(functest.OpenID("o-cut"))
	if cut == nil {
		t.Fatal("no claim left to settle")
	}
	env.Clock.Advance(time.Minute)
	a := login(env, f, wechatsim.Identity{OpenID: "o-cut", UnionID: "u-cut"}).Expect(t, 200, "OK")
	id, _ := bson.ObjectIDFromHex(a.Str("user.id"))
	u := env.User(id)
	if id == *cut || a.Get("isNewUser") != true || !u.HasWeChat() || u.UnionID() != "u-cut" {
		t.Fatalf("next login: %s, stored %+v", a.Raw, u)
	}
	if !env.User(*cut).IsDeleted() {
		t.Fatal("the creation cut short was not sealed: it could still be completed")
	}
}
