package main

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

func profile(env *functest.Env) *functest.Function { return env.Function("profile", newHandler) }

func withPhone(u *store.User) { u.CountryCode, u.Phone, u.Nickname = "86", "13800138000", "小明" }

func TestGetProfile(t *testing.T) {
	env := functest.New(t)
	acct := env.SignUp(withPhone)
	a := profile(env).Do("GET", "/profile", "", acct.AccessToken).Expect(t, 200, "OK")
	if a.Str("user.id") != acct.User.ID.Hex() || a.Str("user.nickname") != "小明" || a.Str("user.phone") != "13800138000" {
		t.Fatalf("user = %s", a.Raw)
	}
	if a.RoundTrips != 1 {
		t.Errorf("GET /profile took %d round trips, budget is 1", a.RoundTrips)
	}
	// "bearer" in any case, and a trailing slash, are accepted.
	profile(env).HTTP(functest.Request{Method: "GET", Path: "/profile/", Headers: map[string]string{"Authorization": "bearer " + acct.AccessToken}}).Expect(t, 200, "OK")
}

func TestAccessTokenProblems(t *testing.T) {
	env := functest.New(t)
	acct := env.SignUp(withPhone)
	f := profile(env)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": acct.User.ID.Hex(), "sid": "x", "iss": "scf-auth", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte("not-the-server-secret-not-the-server-secret"))
	tests := []struct {
		name, token string
		code        string
	}{
		{"missing", "", "UNAUTHORIZED"},
		{"garbage", "abc", "UNAUTHORIZED"},
		{"truncated", acct.AccessToken[:len(acct.AccessToken)-4], "UNAUTHORIZED"},
		{"forged", forged, "UNAUTHORIZED"},
		{"refresh token as access token", acct.RefreshToken, "UNAUTHORIZED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Do("GET", "/profile", "", tt.token).Expect(t, 401, tt.code)
		})
	}
	f.HTTP(functest.Request{Method: "GET", Path: "/profile", Headers: map[string]string{"authorization": acct.AccessToken}}).Expect(t, 401, "UNAUTHORIZED")
	f.HTTP(functest.Request{Method: "GET", Path: "/profile", Headers: map[string]string{"authorization": "Basic " + acct.AccessToken}}).Expect(t, 401, "UNAUTHORIZED")

	env.Clock.Advance(2*time.Hour + time.Second)
	f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 401, "TOKEN_EXPIRED")
}

func TestEndedSessionAndDisabledAccount(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(withPhone)
	if err := env.Sessions().Logout(t.Context(), acct.AccessToken, false); err != nil {
		t.Fatal(err)
	}
	f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 401, "UNAUTHORIZED")

	other := env.SignUp(nil)
	if err := env.Store.SetDisabled(t.Context(), other.User.ID, true); err != nil {
		t.Fatal(err)
	}
	f.Do("GET", "/profile", "", other.AccessToken).Expect(t, 403, "ACCOUNT_DISABLED")
	f.Do("PATCH", "/profile", `{"nickname":"x"}`, other.AccessToken).Expect(t, 403, "ACCOUNT_DISABLED")
	f.Do("DELETE", "/profile", "", other.AccessToken).Expect(t, 403, "ACCOUNT_DISABLED")
	if u, err := env.Store.UserByID(t.Context(), other.User.ID); err != nil || u.IsDeleted() {
		t.Fatalf("a disabled account deleted itself: %v", err)
	}
	// Whatever an operator types, reading the flag and the update agree.
	for _, no := range []any{"False", "no", 0, false} {
		if err := env.Store.SetField(t.Context(), other.User.ID, "disabled", no); err != nil {
			t.Fatal(err)
		}
		f.Do("PATCH", "/profile", `{"nickname":"x"}`, other.AccessToken).Expect(t, 200, "OK")
	}
	for _, yes := range []any{"True", "yes", 1} {
		if err := env.Store.SetField(t.Context(), other.User.ID, "disabled", yes); err != nil {
			t.Fatal(err)
		}
		f.Do("PATCH", "/profile", `{"nickname":"x"}`, other.AccessToken).Expect(t, 403, "ACCOUNT_DISABLED")
		f.Do("GET", "/profile", "", other.AccessToken).Expect(t, 403, "ACCOUNT_DISABLED")
	}
}

func TestPatchChangesOnlyWhatIsSent(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(withPhone)
	env.Clock.Advance(time.Minute)
	a := f.Do("PATCH", "/profile", `{"nickname":"  新名字  ","gender":2,"birthday":"1990-01-31","bio":"第一行\n第二行"}`, acct.AccessToken).Expect(t, 200, "OK")
	if a.Str("user.nickname") != "新名字" || a.Num("user.gender") != 2 || a.Str("user.birthday") != "1990-01-31" ||
		a.Str("user.bio") != "第一行\n第二行" || a.Str("user.phone") != "13800138000" || a.Str("user.avatarUrl") != "" {
		t.Fatalf("user = %s", a.Raw)
	}
	if a.Str("user.updatedAt") == a.Str("user.createdAt") {
		t.Errorf("updatedAt not moved: %s", a.Raw)
	}
	if a.RoundTrips != 1 {
		t.Errorf("PATCH /profile took %d round trips, budget is 1", a.RoundTrips)
	}
	b := f.Do("PUT", "/profile", `{"avatarUrl":"cloud://env-1a2b/avatars/me.png","birthday":null}`, acct.AccessToken).Expect(t, 200, "OK")
	if b.Str("user.nickname") != "新名字" || b.Get("user.birthday") != nil || b.Str("user.avatarUrl") != "cloud://env-1a2b/avatars/me.png" {
		t.Fatalf("PUT: %s", b.Raw)
	}
	c := f.Do("PATCH", "/profile", `{}`, acct.AccessToken).Expect(t, 200, "OK")
	if c.Str("user.updatedAt") != b.Str("user.updatedAt") {
		t.Errorf("an empty PATCH changed the account")
	}
	stored, _ := env.Store.UserByID(t.Context(), acct.User.ID)
	if stored.Nickname != "新名字" || stored.Birthday != "" || stored.Gender != 2 {
		t.Fatalf("stored %+v", stored)
	}
}

func TestPatchValidation(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(withPhone)
	tomorrow := env.Clock.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format("2006-01-02")
	today := env.Clock.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	tests := []struct {
		name, body, field string
	}{
		{"phone is read-only", `{"phone":"13900139000"}`, "phone"},
		{"points are read-only", `{"points":100}`, "points"},
		{"id is read-only", `{"id":"x"}`, "id"},
		{"wechatBound is read-only", `{"wechatBound":false}`, "wechatBound"},
		{"createdAt is read-only", `{"createdAt":"2020-01-01T00:00:00Z"}`, "createdAt"},
		{"countryCode is read-only", `{"countryCode":"1"}`, "countryCode"},
		{"unknown field", `{"nickName":"x"}`, "nickName"},
		{"disabled is not editable", `{"disabled":false}`, "disabled"},
		{"empty nickname", `{"nickname":"   "}`, "nickname"},
		{"nickname of 21 characters", `{"nickname":"` + strings.Repeat("字", 21) + `"}`, "nickname"},
		{"nickname with control character", `{"nickname":"a\u0007b"}`, "nickname"},
		{"nickname reversing what follows", `{"nickname":"abc\u202egnp.exe"}`, "nickname"},
		{"nickname of zero-width characters only", `{"nickname":"\u200b\u200d\u200c"}`, "nickname"},
		{"nickname with a zero-width space", `{"nickname":"a\u200bb"}`, "nickname"},
		{"nickname with a byte-order mark", `{"nickname":"\ufeffab"}`, "nickname"},
		{"nickname of combining marks only", `{"nickname":"\u0301\u0301"}`, "nickname"},
		{"bio with a bidirectional override", `{"bio":"hello \u202e dlrow"}`, "bio"},
		{"bio with an isolate", `{"bio":"a\u2066b"}`, "bio"},
		{"nickname not a string", `{"nickname":7}`, "nickname"},
		{"nickname null", `{"nickname":null}`, "nickname"},
		{"avatar over http", `{"avatarUrl":"http://example.com/a.png"}`, "avatarUrl"},
		{"avatar javascript", `{"avatarUrl":"javascript:alert(1)"}`, "avatarUrl"},
		{"avatar without host", `{"avatarUrl":"https://"}`, "avatarUrl"},
		{"avatar with space", `{"avatarUrl":"https://a.com/a b.png"}`, "avatarUrl"},
		{"avatar of 513 bytes", `{"avatarUrl":"https://a.com/` + strings.Repeat("a", 499) + `"}`, "avatarUrl"},
		{"empty avatar", `{"avatarUrl":""}`, "avatarUrl"},
		{"avatar reversing what follows", `{"avatarUrl":"https://a.com/\u202egnp.exe"}`, "avatarUrl"},
		{"avatar with a zero-width space", `{"avatarUrl":"https://a.com/a\u200bb.png"}`, "avatarUrl"},
		{"avatar with a zero-width joiner", `{"avatarUrl":"https://a.com/a\u200db.png"}`, "avatarUrl"},
		{"avatar with a byte-order mark", `{"avatarUrl":"https://a.com/\ufeffa.png"}`, "avatarUrl"},
		{"gender 3", `{"gender":3}`, "gender"},
		{"gender -1", `{"gender":-1}`, "gender"},
		{"gender as string", `{"gender":"1"}`, "gender"},
		{"gender as fraction", `{"gender":1.5}`, "gender"},
		{"birthday in the future", `{"birthday":"` + tomorrow + `"}`, "birthday"},
		{"birthday before 1900", `{"birthday":"1899-12-31"}`, "birthday"},
		{"birthday not a date", `{"birthday":"1990-02-30"}`, "birthday"},
		{"birthday unpadded", `{"birthday":"1990-2-3"}`, "birthday"},
		{"birthday with time", `{"birthday":"1990-02-03T00:00:00Z"}`, "birthday"},
		{"birthday as number", `{"birthday":19900203}`, "birthday"},
		{"bio of 201 characters", `{"bio":"` + strings.Repeat("好", 201) + `"}`, "bio"},
		{"bio with control character", `{"bio":"a\u0000b"}`, "bio"},
		{"nickname of bytes that are not UTF-8", "{\"nickname\":\"a\xff\xfeb\"}", "nickname"},
		{"nickname with a lone surrogate", `{"nickname":"a\ud800b"}`, "nickname"},
		{"bio with a lone surrogate", `{"bio":"a\udc00b"}`, "bio"},
		{"avatar with a lone surrogate", `{"avatarUrl":"https://a.com/\ud800.png"}`, "avatarUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Do("PATCH", "/profile", tt.body, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, tt.field)
		})
	}
	// Limits themselves are accepted.
	f.Do("PATCH", "/profile", `{"nickname":"`+strings.Repeat("字", 20)+`","bio":"`+strings.Repeat("好", 200)+`","birthday":"`+today+`","avatarUrl":"https://a.com/`+strings.Repeat("a", 498)+`","gender":0}`, acct.AccessToken).Expect(t, 200, "OK")
	f.Do("PATCH", "/profile", `{"birthday":"1900-01-01"}`, acct.AccessToken).Expect(t, 200, "OK")
	// A surrogate pair is a character like any other.
	if a := f.Do("PATCH", "/profile", `{"nickname":"\ud83d\ude00"}`, acct.AccessToken).Expect(t, 200, "OK"); a.Str("user.nickname") != "😀" {
		t.Fatalf("nickname %q", a.Str("user.nickname"))
	}
	// Emoji sequences need their joiners.
	family := f.Do("PATCH", "/profile", `{"nickname":"我家👨\u200d👩\u200d👧","bio":"é\u0301 👍🏽"}`, acct.AccessToken).Expect(t, 200, "OK")
	if family.Str("user.nickname") != "我家👨\u200d👩\u200d👧" {
		t.Fatalf("nickname %q", family.Str("user.nickname"))
	}
	// A rejected PATCH changed nothing.
	stored, _ := env.Store.UserByID(t.Context(), acct.User.ID)
	if stored.Phone != "13800138000" || stored.Points != 0 {
		t.Fatalf("stored %+v", stored)
	}
}

func TestWrongRoutes(t *testing.T) {
	env := functest.New(t)
	acct := env.SignUp(nil)
	f := profile(env)
	a := f.Do("POST", "/profile", `{}`, acct.AccessToken).Expect(t, 405, "METHOD_NOT_ALLOWED")
	if a.Headers["Allow"] != "DELETE, GET, PATCH, PUT" {
		t.Errorf("Allow = %q", a.Headers["Allow"])
	}
	f.Do("GET", "/profiles", "", acct.AccessToken).Expect(t, 404, "NOT_FOUND")
	// A path that goes on after a route, as a session id holding a slash
	// makes it, is no other route: the account is not deleted.
	for _, path := range []string{"/profile/sessions/a/profile", "/sessions/a/profile", "/profile/sessions/../profile", "/profile/x/profile"} {
		f.Do("DELETE", path, "", acct.AccessToken).Expect(t, 404, "NOT_FOUND")
	}
	f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 200, "OK")
	f.Do("PATCH", "/profile", `[]`, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST")
	f.Do("PATCH", "/profile", `{"nickname":"`+strings.Repeat("a", 17<<10)+`"}`, acct.AccessToken).Expect(t, 413, "PAYLOAD_TOO_LARGE")
}

func TestDeleteProfile(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(func(u *store.User) { withPhone(u); u.WeChat = functest.WeChatOf("o-del", "u-del") })
	second := env.LogIn(acct.User) // another device
	if _, err := env.Store.RecordPhoneSend(t.Context(), env.PhoneKey("13800138000"), store.Send{ID: "s1", At: env.Clock.Now()}, env.Clock.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	bystander := env.SignUp(func(u *store.User) { u.CountryCode, u.Phone = "86", "13900139000" })

	a := f.Do("DELETE", "/profile", "", acct.AccessToken).Expect(t, 200, "OK")
	if a.Get("deleted") != true {
		t.Fatalf("answer %s", a.Raw)
	}
	f.Do("GET", "/profile", "", acct.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	f.Do("GET", "/profile", "", second.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	f.Do("DELETE", "/profile", "", acct.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	gone := env.User(acct.User.ID)
	if !gone.IsDeleted() || gone.Phone != "" || gone.Nickname != "" || len(gone.Sessions) != 0 {
		t.Fatalf("deleted account still holds data: %+v", gone)
	}
	// Its identities are free at once; the send records of its phone are
	// abuse records, not account data: they stay until they expire.
	for _, id := range []store.Identity{store.PhoneIdentity("86", "13800138000"), functest.OpenID("o-del"), store.UnionIDIdentity("u-del")} {
		if h := env.Holder(id); h != nil {
			t.Fatalf("%s still held after deletion", id)
		}
	}
	if sends := env.PhoneSMS("13800138000").Sends; len(sends) != 1 {
		t.Fatalf("send records of the phone: %v, want kept", sends)
	}
	// Nobody else was touched.
	f.Do("GET", "/profile", "", bystander.AccessToken).Expect(t, 200, "OK")
}

func TestDirectInvocation(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(func(u *store.User) { withPhone(u); u.WeChat = functest.WeChatOf("o-cloud", "") })
	caller := map[string]any{"appId": functest.AppID, "openId": "o-cloud"}

	f.Direct(map[string]any{"accessToken": acct.AccessToken}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"action": "get", "userInfo": caller}).Expect(t, 0, "OK")
	a := f.Direct(map[string]any{"action": "update", "userInfo": caller, "nickname": "云"}).Expect(t, 0, "OK")
	if a.Str("user.nickname") != "云" {
		t.Fatalf("update: %s", a.Raw)
	}
	f.Direct(map[string]any{"action": "update", "accessToken": acct.AccessToken, "points": 9}).Expect(t, 0, "INVALID_REQUEST").Field(t, "points")
	f.Direct(map[string]any{}).Expect(t, 0, "UNAUTHORIZED")
	f.Direct(map[string]any{"userInfo": map[string]any{"appId": "wxsomeoneelse", "openId": "o-cloud"}}).Expect(t, 0, "UNAUTHORIZED")
	f.Direct(map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-nobody"}}).Expect(t, 0, "UNAUTHORIZED")
	f.Direct(map[string]any{"action": "rename"}).Expect(t, 0, "INVALID_REQUEST").Field(t, "action")
	// A userInfo in an HTTP body is the client's word, not the platform's.
	f.Do("PATCH", "/profile", `{"nickname":"x","userInfo":{"appId":"`+functest.AppID+`","openId":"o-cloud"}}`, "").Expect(t, 401, "UNAUTHORIZED")

	f.Direct(map[string]any{"action": "delete", "userInfo": caller}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"accessToken": acct.AccessToken}).Expect(t, 0, "UNAUTHORIZED")
}

func TestInfrastructureErrors(t *testing.T) {
	t.Run("database down", func(t *testing.T) {
		env := functest.New(t)
		acct := env.SignUp(nil)
		env.DatabaseDown()
		profile(env).Do("GET", "/profile", "", acct.AccessToken).Expect(t, 503, "SERVICE_UNAVAILABLE")
	})
	t.Run("bad configuration", func(t *testing.T) {
		env := functest.New(t)
		env.Vars["ACCESS_TOKEN_TTL"] = "forever"
		profile(env).Do("GET", "/profile", "", "x").Expect(t, 500, "INTERNAL")
		if !strings.Contains(env.Logs.String(), "ACCESS_TOKEN_TTL") {
			t.Fatal("log does not name ACCESS_TOKEN_TTL")
		}
	})
}
