package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// miniProgram sends a request as a mini-program on an iPhone does: WeChat
// sets the User-Agent and the Referer naming the app.
func miniProgram(f *functest.Function, method, path, body, token string) *functest.Answer {
	return f.HTTP(functest.Request{Method: method, Path: path, Body: body, Headers: map[string]string{
		"authorization": "Bearer " + token,
		"User-Agent":    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN",
		"Referer":       "https://servicewechat.com/" + functest.AppID + "/12/page-frame.html",
	}})
}

const iPhoneClient = "mini-program " + functest.AppID + " · iOS"

type listedSession struct {
	ID, Method, Client, CreatedAt, LastUsedAt string
	Current                                   bool
}

func sessionsOf(t *testing.T, a *functest.Answer) []listedSession {
	t.Helper()
	raw, _ := json.Marshal(a.Get("sessions"))
	var out []listedSession
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		t.Fatalf("sessions: %s", a.Raw)
	}
	return out
}

func TestListSessions(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	first := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
	env.Clock.Advance(time.Minute)
	second := env.LogInWith(first.User, session.MethodWeChat, iPhoneClient)
	env.Clock.Advance(time.Minute)
	// A session made before this version recorded phone-number logins so.
	env.LogInWith(first.User, "wechat-phone", "")
	ended := env.LogIn(first.User)
	if err := env.Sessions().Logout(t.Context(), ended.AccessToken, false); err != nil {
		t.Fatal(err)
	}

	a := f.Do("GET", "/profile/sessions", "", second.AccessToken).Expect(t, 200, "OK")
	if a.RoundTrips != 1 {
		t.Errorf("GET /profile/sessions took %d round trips, budget is 1", a.RoundTrips)
	}
	list := sessionsOf(t, a)
	if len(list) != 3 {
		t.Fatalf("%d sessions, want the 3 live ones: %s", len(list), a.Raw)
	}
	if list[0].Method != "phone-number" || list[1].Method != "wechat" || list[1].Client != iPhoneClient || !list[1].Current ||
		list[2].Method != "sms" || list[0].Current || list[2].Current {
		t.Fatalf("sessions, newest first, the second current: %s", a.Raw)
	}
	if list[2].CreatedAt != first.User.CreatedAt.UTC().Format(time.RFC3339) || list[2].LastUsedAt != list[2].CreatedAt {
		t.Fatalf("times: %+v", list[2])
	}
	for _, s := range list {
		if strings.Contains(a.Raw, "tokenHash") || !isSessionID(s.ID) {
			t.Fatalf("session %+v of %s", s, a.Raw)
		}
	}

	// A refresh keeps the sign-in time and moves lastUsedAt.
	env.Clock.Advance(time.Hour)
	renewed, err := env.Sessions().Refresh(t.Context(), second.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	b := sessionsOf(t, f.Do("GET", "/profile/sessions", "", renewed.AccessToken).Expect(t, 200, "OK"))
	if b[1].ID != list[1].ID || b[1].CreatedAt != list[1].CreatedAt || b[1].LastUsedAt == list[1].LastUsedAt || !b[1].Current {
		t.Fatalf("after a refresh: %+v, before %+v", b[1], list[1])
	}

	// A wx.cloud caller without a token has no current session.
	c := f.Direct(map[string]any{"action": "listSessions", "userInfo": map[string]any{"appId": functest.AppID, "openId": "o-1"}}).Expect(t, 0, "OK")
	for _, s := range sessionsOf(t, c) {
		if s.Current {
			t.Fatalf("a current session for a caller without one: %s", c.Raw)
		}
	}
	f.Do("GET", "/profile/sessions", "", "").Expect(t, 401, "UNAUTHORIZED")
	f.Do("POST", "/profile/sessions", "{}", second.AccessToken).Expect(t, 405, "METHOD_NOT_ALLOWED")
}

// sessionOf is the id of the session an access token belongs to, read from
// the token, as any client can.
func sessionOf(t *testing.T, accessToken string) string {
	t.Helper()
	parts := strings.Split(accessToken, ".")
	var claims struct {
		SID string `json:"sid"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil || claims.SID == "" {
		t.Fatalf("no sid in %s", accessToken)
	}
	return claims.SID
}

func TestRevokeSession(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	me := env.SignUp(phoneOnly(phoneA))
	phone := env.LogInWith(me.User, session.MethodSMS, iPhoneClient)
	laptop := env.LogInWith(me.User, session.MethodWeChat, "browser · macOS")
	stranger := env.SignUp(phoneOnly(phoneB))

	list := sessionsOf(t, f.Do("GET", "/profile/sessions", "", me.AccessToken).Expect(t, 200, "OK"))
	var laptopID string
	for _, s := range list {
		if s.Client == "browser · macOS" {
			laptopID = s.ID
		}
	}
	a := f.Do("DELETE", "/profile/sessions/"+laptopID, "", me.AccessToken).Expect(t, 200, "OK")
	if a.Get("revoked") != true {
		t.Fatalf("answer %s", a.Raw)
	}
	// Its tokens are refused at once; the others go on.
	f.Do("GET", "/profile", "", laptop.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	if _, err := env.Sessions().Refresh(t.Context(), laptop.RefreshToken); err == nil || !strings.Contains(err.Error(), "REFRESH_TOKEN_INVALID") {
		t.Fatalf("refresh of a revoked session: %v", err)
	}
	f.Do("GET", "/profile", "", me.AccessToken).Expect(t, 200, "OK")
	f.Do("GET", "/profile", "", phone.AccessToken).Expect(t, 200, "OK")
	if n := len(sessionsOf(t, f.Do("GET", "/profile/sessions", "", me.AccessToken).Expect(t, 200, "OK"))); n != 2 {
		t.Fatalf("%d sessions left, want 2", n)
	}
	if e := env.User(me.User.ID).RecentEvents()[0]; e.Type != store.EventSessionRevoked || e.Method != "wechat" {
		t.Fatalf("last event %+v", e)
	}

	// Another account's session is not the caller's to end.
	f.Do("DELETE", "/profile/sessions/"+sessionOf(t, stranger.AccessToken), "", me.AccessToken).Expect(t, 200, "OK")
	f.Do("GET", "/profile", "", stranger.AccessToken).Expect(t, 200, "OK")
	// An ended session is no longer there to end.
	f.Do("DELETE", "/profile/sessions/"+laptopID, "", me.AccessToken).Expect(t, 200, "OK")
	for _, bad := range []string{"a.b", "$where", strings.Repeat("a", 65), "a%2Eb"} {
		f.Do("DELETE", "/profile/sessions/"+bad, "", me.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "sessionId")
	}
	f.Do("DELETE", "/profile/sessions", "", me.AccessToken).Expect(t, 405, "METHOD_NOT_ALLOWED")
	f.Do("DELETE", "/profile/sessions/"+laptopID, `{"sessionId":"x"}`, me.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "sessionId")
	f.Do("DELETE", "/profile/sessions/"+laptopID, "", laptop.AccessToken).Expect(t, 401, "UNAUTHORIZED")

	// The direct action; and ending one's own session logs it out.
	f.Direct(map[string]any{"action": "revokeSession", "accessToken": me.AccessToken}).Expect(t, 0, "INVALID_REQUEST").Field(t, "sessionId")
	f.Direct(map[string]any{"action": "revokeSession", "accessToken": me.AccessToken, "sessionId": sessionOf(t, phone.AccessToken)}).Expect(t, 0, "OK")
	f.Do("GET", "/profile", "", phone.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	f.Do("DELETE", "/profile/sessions/"+sessionOf(t, me.AccessToken), "", me.AccessToken).Expect(t, 200, "OK")
	f.Do("GET", "/profile", "", me.AccessToken).Expect(t, 401, "UNAUTHORIZED")
}

// eventsOf decodes GET /profile/security.
func eventsOf(t *testing.T, a *functest.Answer) []map[string]string {
	t.Helper()
	raw, _ := json.Marshal(a.Get("events"))
	var out []map[string]string
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		t.Fatalf("events: %s", a.Raw)
	}
	return out
}

// The account's security events, newest first, as its owner reads them;
// every one but logins also in the audit trail, numbers masked.
func TestSecurityEvents(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(wechatOnly("o-1"))
	other := env.LogInWith(acct.User, session.MethodWeChat, "browser · Windows")
	env.SeedCode(phoneA, "111111")
	miniProgram(f, "POST", "/profile/phone", functest.Body("phone", phoneA, "code", "111111"), acct.AccessToken).Expect(t, 200, "OK")
	env.SeedCode(phoneB, "222222")
	miniProgram(f, "POST", "/profile/phone", functest.Body("phone", phoneB, "code", "222222"), acct.AccessToken).Expect(t, 200, "OK")
	miniProgram(f, "DELETE", "/profile/wechat", "", acct.AccessToken).Expect(t, 200, "OK")
	code := env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-2"})
	miniProgram(f, "POST", "/profile/wechat", functest.Body("loginCode", code), acct.AccessToken).Expect(t, 200, "OK")
	miniProgram(f, "DELETE", "/profile/sessions/"+sessionOf(t, other.AccessToken), "", acct.AccessToken).Expect(t, 200, "OK")
	// A spent refresh token comes back after the grace window: the session
	// is revoked.
	if _, err := env.Sessions().Refresh(t.Context(), acct.RefreshToken); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(10 * time.Second)
	if _, err := env.Sessions().Refresh(t.Context(), acct.RefreshToken); err == nil {
		t.Fatal("a reused refresh token was accepted")
	}
	again := env.LogIn(acct.User)
	if err := env.Sessions().Logout(t.Context(), again.AccessToken, true); err != nil {
		t.Fatal(err)
	}
	now := env.LogInWith(acct.User, session.MethodPhoneNumber, iPhoneClient)

	a := miniProgram(f, "GET", "/profile/security", "", now.AccessToken).Expect(t, 200, "OK")
	if a.RoundTrips != 1 {
		t.Errorf("GET /profile/security took %d round trips, want 1", a.RoundTrips)
	}
	want := []struct{ typ, method, client string }{
		{"login", "phone-number", iPhoneClient},
		{"logout-all", "", ""},
		{"login", "sms", ""},
		{"refresh-reuse", "sms", ""},
		{"session-revoked", "wechat", iPhoneClient},
		{"link", "wechat", iPhoneClient},
		{"unlink", "wechat", iPhoneClient},
		{"phone-change", "phone", iPhoneClient},
		{"link", "phone", iPhoneClient},
		{"login", "wechat", "browser · Windows"},
		{"signup", "sms", ""},
	}
	events := eventsOf(t, a)
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %s", len(events), len(want), a.Raw)
	}
	for i, w := range want {
		e := events[i]
		if e["type"] != w.typ || e["method"] != w.method || e["client"] != w.client {
			t.Errorf("event %d: %v, want %+v", i, e, w)
		}
		if _, err := time.Parse(time.RFC3339, e["at"]); err != nil {
			t.Errorf("event %d at %q", i, e["at"])
		}
	}
	f.Direct(map[string]any{"action": "security", "accessToken": now.AccessToken}).Expect(t, 0, "OK")

	// The audit trail: every event but logins, oldest first, the numbers
	// masked and never in clear.
	trail, err := env.Store.AuditTrail(t.Context(), acct.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range trail {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, " "); got != "signup link phone-change unlink link session-revoked refresh-reuse logout-all" {
		t.Fatalf("audit trail %s", got)
	}
	if change := trail[2]; change.PreviousPhone != "138****8000" || change.Phone != "139****9000" || change.Client != iPhoneClient {
		t.Fatalf("phone change audited as %+v", change)
	}
	raw, err := env.Store.Database().Collection("audit").Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := raw.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(docs)
	if strings.Contains(string(dump), phoneA) || strings.Contains(string(dump), phoneB) || strings.Contains(string(dump), "o-1") {
		t.Fatalf("the audit trail holds a number or an openid in clear: %s", dump)
	}
}

// The account keeps its last 20 events, and says so to its owner.
func TestSecurityEventsKeepTheLastTwenty(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	var last *functest.Account
	for i := 0; i < 25; i++ {
		env.Clock.Advance(time.Second)
		last = env.LogInWith(acct.User, session.MethodSMS, "client "+string(rune('a'+i)))
	}
	events := eventsOf(t, f.Do("GET", "/profile/security", "", last.AccessToken).Expect(t, 200, "OK"))
	if len(events) != store.MaxEvents || events[0]["client"] != "client y" || events[19]["client"] != "client f" {
		t.Fatalf("%d events, newest %v, oldest %v", len(events), events[0], events[len(events)-1])
	}
}
