package main

import (
	"sort"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// person is one person as each of the brand's apps sees them: an openid of
// that app, one unionid for all.
func person(name string) func(app string) wechatsim.Identity {
	return func(app string) wechatsim.Identity {
		return wechatsim.Identity{OpenID: "o-" + name + "-" + app, UnionID: "u-" + name, Nickname: name, AvatarURL: "https://thirdwx.qlogo.cn/" + name + "/132"}
	}
}

// loginFrom logs in from app as a login page of its kind does: a
// wx.login() code for a mini-program, an OAuth code for the others.
func loginFrom(env *functest.Env, f *functest.Function, app string, id wechatsim.Identity) *functest.Answer {
	switch app {
	case functest.AppID, functest.SecondMiniProgram:
		return f.Post("/wx-login", functest.Body("appId", app, "code", env.WeChat.NewLoginCodeFor(app, id)), "")
	case functest.OfficialAccount:
		return f.Post("/wx-login", functest.Body("appId", app, "oauthCode", env.WeChat.NewOAuthCode(app, id, wechatsim.ScopeUserInfo)), "")
	}
	return f.Post("/wx-login", functest.Body("appId", app, "oauthCode", env.WeChat.NewOAuthCode(app, id, wechatsim.ScopeLogin)), "")
}

var allApps = []string{functest.AppID, functest.SecondMiniProgram, functest.OfficialAccount, functest.Website, functest.MobileApp}

// One person signs up in one app and logs in from each other kind: every
// login lands in one account, which gains each app's openid, joined by the
// unionid; a second login from an app is a returning login of two round
// trips.
func TestOnePersonAcrossTheBrandsApps(t *testing.T) {
	for _, first := range allApps {
		t.Run("signed up in "+first, func(t *testing.T) {
			env := functest.New(t)
			f := wxLogin(env)
			alice := person("alice")
			a := loginFrom(env, f, first, alice(first)).Expect(t, 200, "OK")
			if a.Get("isNewUser") != true {
				t.Fatalf("sign-up: %s", a.Raw)
			}
			id := a.Str("user.id")
			oid, _ := bson.ObjectIDFromHex(id)
			for _, app := range allApps {
				b := loginFrom(env, f, app, alice(app)).Expect(t, 200, "OK")
				if b.Str("user.id") != id || b.Get("isNewUser") != false {
					t.Fatalf("login from %s: %s, want account %s", app, b.Raw, id)
				}
				again := loginFrom(env, f, app, alice(app)).Expect(t, 200, "OK")
				if again.RoundTrips > 2 {
					t.Errorf("a returning login from %s took %d round trips, want at most 2", app, again.RoundTrips)
				}
				// Past ten sessions a login also ends the oldest (one more
				// round trip): this test's logins start afresh each time.
				sessions := env.User(oid).Sessions
				for sid := range sessions {
					if _, err := env.Store.RemoveSessions(t.Context(), oid, sid); err != nil {
						t.Fatal(err)
					}
				}
			}
			u := env.User(oid)
			got := u.WeChatApps()
			want := append([]string(nil), allApps...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") || u.UnionID() != "u-alice" {
				t.Fatalf("account lists apps %v and unionid %q; want %v and u-alice", got, u.UnionID(), want)
			}
			if n, _ := env.Store.CountUsers(t.Context(), bson.D{}); n != 1 {
				t.Fatalf("%d accounts for one person", n)
			}
			env.CheckIdentities(false)
		})
	}
}

// The first logins of one person from several apps at once make one
// account.
func TestConcurrentFirstLoginsFromSeveralAppsMakeOneAccount(t *testing.T) {
	for round := 0; round < 3; round++ {
		env := functest.New(t)
		f := wxLogin(env)
		bob := person("bob")
		var mu sync.Mutex
		ids := map[string]int{}
		var wg sync.WaitGroup
		for _, app := range allApps {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a := loginFrom(env, f, app, bob(app))
					mu.Lock()
					defer mu.Unlock()
					if a.Code != "OK" {
						t.Errorf("login from %s: %s", app, a.Raw)
						return
					}
					ids[a.Str("user.id")]++
				}()
			}
		}
		wg.Wait()
		if len(ids) != 1 {
			t.Fatalf("one person's concurrent first logins made %d accounts: %v", len(ids), ids)
		}
		env.CheckIdentities(false)
	}
}

// Without a unionid (an app not bound to the open platform) nothing joins
// two apps' openids: each app's first login makes its own account.
func TestWithoutAUnionIDAppsStayApart(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	a := loginFrom(env, f, functest.AppID, wechatsim.Identity{OpenID: "o-solo-1"}).Expect(t, 200, "OK")
	b := loginFrom(env, f, functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-solo-2"}).Expect(t, 200, "OK")
	if a.Str("user.id") == b.Str("user.id") {
		t.Fatal("two openids with no unionid were joined")
	}
}

// A sign-up through 网页授权 with snsapi_userinfo takes WeChat's nickname
// and avatar; with snsapi_base it gets a made-up nickname; the nickname
// the request sends wins over WeChat's.
func TestOAuthSignUpProfile(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	id := wechatsim.Identity{OpenID: "o-h5", UnionID: "u-h5", Nickname: "小红", AvatarURL: "http://thirdwx.qlogo.cn/mmopen/h5/132"}
	a := f.Post("/wx-login", functest.Body("appId", functest.OfficialAccount, "oauthCode", env.WeChat.NewOAuthCode(functest.OfficialAccount, id, wechatsim.ScopeUserInfo)), "").Expect(t, 200, "OK")
	if a.Str("user.nickname") != "小红" || a.Str("user.avatarUrl") != "https://thirdwx.qlogo.cn/mmopen/h5/132" {
		t.Fatalf("userinfo sign-up: %s", a.Raw)
	}
	base := wechatsim.Identity{OpenID: "o-base", Nickname: "不给"}
	b := f.Post("/wx-login", functest.Body("appId", functest.OfficialAccount, "oauthCode", env.WeChat.NewOAuthCode(functest.OfficialAccount, base, wechatsim.ScopeBase)), "").Expect(t, 200, "OK")
	if !strings.HasPrefix(b.Str("user.nickname"), "用户") || env.WeChat.Calls("userinfo") != 1 {
		t.Fatalf("snsapi_base sign-up: %s (userinfo called %d times)", b.Raw, env.WeChat.Calls("userinfo"))
	}
	c := f.Post("/wx-login", functest.Body("appId", functest.Website, "nickname", "自己起", "oauthCode",
		env.WeChat.NewOAuthCode(functest.Website, wechatsim.Identity{OpenID: "o-web", Nickname: "微信名"}, wechatsim.ScopeLogin)), "").Expect(t, 200, "OK")
	if c.Str("user.nickname") != "自己起" {
		t.Fatalf("the request's nickname lost to WeChat's: %s", c.Raw)
	}
}

// A 公众号's snapshot page gives a virtual user WeChat made up: no account
// is made of it.
func TestSnapshotPageUserIsRefused(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	code := env.WeChat.NewSnapshotCode(functest.OfficialAccount, wechatsim.Identity{OpenID: "o-snap", UnionID: "u-snap"})
	a := f.Post("/wx-login", functest.Body("appId", functest.OfficialAccount, "oauthCode", code), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	if a.Get("reason") != "snapshotuser" {
		t.Fatalf("data %v, want reason snapshotuser", a.Data)
	}
	if env.Holder(store.OpenIDIdentity(functest.OfficialAccount, "o-snap")) != nil || env.Holder(store.UnionIDIdentity("u-snap")) != nil {
		t.Fatal("a snapshot page's virtual user got an account")
	}
}

// WeChat's OAuth errors answer as jscode2session's do.
func TestOAuthErrors(t *testing.T) {
	tests := []struct {
		name   string
		fail   []int
		status int
		code   string
	}{
		{"invalid code", []int{wechatsim.ErrInvalidCode}, 401, "WECHAT_CODE_INVALID"},
		{"code used", []int{wechatsim.ErrCodeUsed}, 401, "WECHAT_CODE_INVALID"},
		{"code expired", []int{42003}, 401, "WECHAT_CODE_INVALID"},
		{"rate limited", []int{wechatsim.ErrRateLimited}, 429, "WECHAT_RATE_LIMITED"},
		{"busy twice", []int{wechatsim.ErrBusy, wechatsim.ErrBusy}, 503, "WECHAT_UNAVAILABLE"},
		{"busy once, then fine", []int{wechatsim.ErrBusy}, 200, "OK"},
		{"secret refused", []int{wechatsim.ErrInvalidSecret}, 500, "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			f := wxLogin(env)
			for _, c := range tt.fail {
				env.WeChat.FailNext("oauth2/access_token", c)
			}
			loginFrom(env, f, functest.OfficialAccount, person("carol")(functest.OfficialAccount)).Expect(t, tt.status, tt.code)
			if tt.code == "INTERNAL" && !strings.Contains(env.Logs.String(), "WECHAT_APPS") {
				t.Fatalf("the log does not name WECHAT_APPS: %s", env.Logs.String())
			}
		})
	}
	t.Run("a code used twice", func(t *testing.T) {
		env := functest.New(t)
		f := wxLogin(env)
		code := env.WeChat.NewOAuthCode(functest.Website, person("dan")(functest.Website), wechatsim.ScopeLogin)
		f.Post("/wx-login", functest.Body("appId", functest.Website, "oauthCode", code), "").Expect(t, 200, "OK")
		f.Post("/wx-login", functest.Body("appId", functest.Website, "oauthCode", code), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	})
	t.Run("a code of another app", func(t *testing.T) {
		env := functest.New(t)
		f := wxLogin(env)
		code := env.WeChat.NewOAuthCode(functest.Website, person("erin")(functest.Website), wechatsim.ScopeLogin)
		f.Post("/wx-login", functest.Body("appId", functest.MobileApp, "oauthCode", code), "").Expect(t, 401, "WECHAT_CODE_INVALID")
	})
}

func TestAppIDBadInput(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	id := wechatsim.Identity{OpenID: "o-x"}
	f.Post("/wx-login", functest.Body("appId", "wxnotours000000000", "code", env.WeChat.NewLoginCode(id)), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "appId")
	f.Post("/wx-login", functest.Body("appId", 7, "code", "x"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "appId")
	f.Post("/wx-login", functest.Body("appId", "", "code", env.WeChat.NewLoginCode(id)), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "appId")
	f.Post("/wx-login", functest.Body("appId", functest.OfficialAccount, "code", "x"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "code")
	f.Post("/wx-login", functest.Body("oauthCode", "x"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "oauthCode")
	f.Post("/wx-login", functest.Body("code", "a", "oauthCode", "b"), "").Expect(t, 400, "INVALID_REQUEST").Field(t, "oauthCode")
	if env.WeChat.Calls("jscode2session")+env.WeChat.Calls("oauth2/access_token") != 0 {
		t.Fatal("a refused request called WeChat")
	}
}

// A wx.cloud caller of any of the deployment's mini-programs is trusted;
// one naming an app that is not a mini-program, or not the deployment's,
// is not.
func TestWxCloudCallersOfEachMiniProgram(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	frank := person("frank")
	for _, app := range []string{functest.AppID, functest.SecondMiniProgram} {
		id := frank(app)
		f.Direct(map[string]any{"userInfo": map[string]any{"appId": app, "openId": id.OpenID}}).Expect(t, 0, "OK")
	}
	for _, app := range []string{functest.OfficialAccount, "wxnotours000000000"} {
		f.Direct(map[string]any{"userInfo": map[string]any{"appId": app, "openId": "o-forged"}}).Expect(t, 0, "INVALID_REQUEST").Field(t, "code")
	}
	// A caller names its own app: an appId of another is refused.
	f.Direct(map[string]any{"appId": functest.SecondMiniProgram, "userInfo": map[string]any{"appId": functest.AppID, "openId": frank(functest.AppID).OpenID}}).Expect(t, 0, "INVALID_REQUEST").Field(t, "appId")
}

// A browser on a listed H5 origin can call: its preflight is answered,
// its answers carry the origin, never credentials; another origin gets no
// CORS headers.
func TestCORSForTheH5Origins(t *testing.T) {
	env := functest.New(t)
	f := wxLogin(env)
	preflight := func(origin string) *functest.Answer {
		return f.HTTP(functest.Request{Method: "OPTIONS", Path: "/", FunctionURL: true, Headers: map[string]string{
			"origin": origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type",
		}})
	}
	p := preflight(functest.H5Origin)
	if p.Status != 204 || p.Headers["Access-Control-Allow-Origin"] != functest.H5Origin ||
		!strings.Contains(p.Headers["Access-Control-Allow-Methods"], "POST") || !strings.Contains(p.Headers["Access-Control-Allow-Headers"], "Content-Type") ||
		p.Headers["Access-Control-Allow-Credentials"] != "" {
		t.Fatalf("preflight from the H5 origin: %d %v", p.Status, p.Headers)
	}
	if q := preflight("https://evil.example"); q.Status != 204 || q.Headers["Access-Control-Allow-Origin"] != "" {
		t.Fatalf("preflight from another origin: %d %v", q.Status, q.Headers)
	}
	code := env.WeChat.NewOAuthCode(functest.OfficialAccount, person("gail")(functest.OfficialAccount), wechatsim.ScopeUserInfo)
	a := f.HTTP(functest.Request{Method: "POST", Path: "/", FunctionURL: true, Body: functest.Body("appId", functest.OfficialAccount, "oauthCode", code),
		Headers: map[string]string{"origin": functest.H5Origin}}).Expect(t, 200, "OK")
	if a.Headers["Access-Control-Allow-Origin"] != functest.H5Origin || a.Headers["Vary"] != "Origin" || a.Headers["Access-Control-Allow-Credentials"] != "" {
		t.Fatalf("answer to the H5 origin: %v", a.Headers)
	}
	b := f.HTTP(functest.Request{Method: "POST", Path: "/", FunctionURL: true, Body: `{}`, Headers: map[string]string{"origin": "https://evil.example"}})
	if b.Headers["Access-Control-Allow-Origin"] != "" {
		t.Fatalf("answer to another origin carries CORS headers: %v", b.Headers)
	}
}
