package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

func tokenFn(env *functest.Env) *functest.Function { return env.Function("token", newHandler) }

func refresh(f *functest.Function, rt string) *functest.Answer {
	return f.Post("/token/refresh", functest.Body("refreshToken", rt), "")
}

// alive reports whether an access token is still accepted.
func alive(t *testing.T, env *functest.Env, access string) bool {
	t.Helper()
	_, _, err := env.Sessions().Authenticate(t.Context(), access)
	return err == nil
}

func TestRefreshRotates(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	env.Clock.Advance(time.Hour)
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	if a.Str("refreshToken") == acct.RefreshToken || a.Str("accessToken") == acct.AccessToken || a.Get("isNewUser") != false ||
		a.Num("expiresIn") != 7200 || a.Num("refreshExpiresIn") != 720*3600 || a.Str("user.id") != acct.User.ID.Hex() {
		t.Fatalf("refresh answer %s", a.Raw)
	}
	if a.RoundTrips != 2 {
		t.Errorf("refresh took %d round trips, budget is 2 (account, rotation)", a.RoundTrips)
	}
	if !alive(t, env, a.Str("accessToken")) {
		t.Fatal("new access token refused")
	}
	// The new refresh token works, and the chain goes on.
	b := refresh(f, a.Str("refreshToken")).Expect(t, 200, "OK")
	refresh(f, b.Str("refreshToken")).Expect(t, 200, "OK")
}

func TestReuseAfterGraceRevokesTheSession(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	env.Clock.Advance(4 * time.Second) // grace is 3s
	refresh(f, acct.RefreshToken).Expect(t, 401, "REFRESH_TOKEN_INVALID")
	// The whole session is gone: the newest refresh token and every access
	// token of it fail too.
	refresh(f, a.Str("refreshToken")).Expect(t, 401, "REFRESH_TOKEN_INVALID")
	if alive(t, env, a.Str("accessToken")) || alive(t, env, acct.AccessToken) {
		t.Fatal("access tokens of a revoked session still accepted")
	}
	if !strings.Contains(env.Logs.String(), "session revoked") {
		t.Errorf("revocation not logged")
	}
}

func TestReuseOfAnOlderGenerationRevokes(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	b := refresh(f, a.Str("refreshToken")).Expect(t, 200, "OK")
	refresh(f, acct.RefreshToken).Expect(t, 401, "REFRESH_TOKEN_INVALID") // two generations back, even within grace
	refresh(f, b.Str("refreshToken")).Expect(t, 401, "REFRESH_TOKEN_INVALID")
}

func TestReuseWithinGraceAnswersTheSamePair(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	env.Clock.Advance(2 * time.Second)
	b := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	if a.Str("refreshToken") != b.Str("refreshToken") || a.Str("accessToken") != b.Str("accessToken") {
		t.Fatalf("within grace, a second refresh gave another pair")
	}
	refresh(f, b.Str("refreshToken")).Expect(t, 200, "OK")
}

func TestConcurrentRefreshesGetTheSamePair(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	answers := make([]*functest.Answer, 10)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = refresh(f, acct.RefreshToken) }()
	}
	wg.Wait()
	for _, a := range answers {
		a.Expect(t, 200, "OK")
		if a.Str("refreshToken") != answers[0].Str("refreshToken") || a.Str("accessToken") != answers[0].Str("accessToken") {
			t.Fatalf("concurrent refreshes answered different pairs:\n%s\n%s", answers[0].Raw, a.Raw)
		}
	}
	refresh(f, answers[0].Str("refreshToken")).Expect(t, 200, "OK")
}

func TestRefreshTokenProblems(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	parts := strings.Split(acct.RefreshToken, ".")
	forgedSecret := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"missing", `{}`, 400, "INVALID_REQUEST", "refreshToken"},
		{"empty", `{"refreshToken":""}`, 400, "INVALID_REQUEST", "refreshToken"},
		{"number", `{"refreshToken":123}`, 400, "INVALID_REQUEST", "refreshToken"},
		{"object", `{"refreshToken":{"$ne":null}}`, 400, "INVALID_REQUEST", "refreshToken"},
		{"unknown field", `{"refreshToken":"x","sid":"y"}`, 400, "INVALID_REQUEST", "sid"},
		{"garbage", `{"refreshToken":"garbage"}`, 401, "REFRESH_TOKEN_INVALID", ""},
		{"truncated", functest.Body("refreshToken", acct.RefreshToken[:len(acct.RefreshToken)-3]), 401, "REFRESH_TOKEN_INVALID", ""},
		{"forged secret", functest.Body("refreshToken", forgedSecret), 401, "REFRESH_TOKEN_INVALID", ""},
		{"access token", functest.Body("refreshToken", acct.AccessToken), 401, "REFRESH_TOKEN_INVALID", ""},
		{"unknown session", functest.Body("refreshToken", "AAAAAAAAAAAAAAAAAAAAAA.0."+parts[2]), 401, "REFRESH_TOKEN_INVALID", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.Post("/token/refresh", tt.body, "").Expect(t, tt.status, tt.code)
			if tt.field != "" {
				a.Field(t, tt.field)
			}
		})
	}
	// A forged token for a real session did not revoke it.
	refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	f.Do("GET", "/token/refresh", "", "").Expect(t, 405, "METHOD_NOT_ALLOWED")
	f.Post("/token", `{}`, "").Expect(t, 404, "NOT_FOUND")
}

func TestExpiredRefreshTokenFails(t *testing.T) {
	env := functest.New(t)
	env.Vars["REFRESH_TOKEN_TTL"] = "1h"
	f := tokenFn(env)
	acct := env.SignUp(nil)
	env.Clock.Advance(59 * time.Minute)
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK") // sliding: a use extends the session
	env.Clock.Advance(59 * time.Minute)
	b := refresh(f, a.Str("refreshToken")).Expect(t, 200, "OK")
	env.Clock.Advance(time.Hour + time.Second)
	refresh(f, b.Str("refreshToken")).Expect(t, 401, "REFRESH_TOKEN_INVALID")
}

func TestRefreshOfDisabledOrDeletedAccount(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	if err := env.Store.SetDisabled(t.Context(), acct.User.ID, true); err != nil {
		t.Fatal(err)
	}
	refresh(f, acct.RefreshToken).Expect(t, 403, "ACCOUNT_DISABLED")
	if err := env.Store.SetDisabled(t.Context(), acct.User.ID, false); err != nil {
		t.Fatal(err)
	}
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK") // disabling spent nothing
	if _, err := env.Store.DeleteUser(t.Context(), acct.User.ID, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	refresh(f, a.Str("refreshToken")).Expect(t, 401, "REFRESH_TOKEN_INVALID")
}

func TestLogout(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	other := env.LogIn(acct.User)
	a := f.Post("/token/logout", ``, acct.AccessToken).Expect(t, 200, "OK")
	if a.Get("loggedOut") != true || a.RoundTrips != 1 {
		t.Fatalf("logout: %s (%d round trips)", a.Raw, a.RoundTrips)
	}
	if alive(t, env, acct.AccessToken) {
		t.Fatal("access token of an ended session accepted")
	}
	refresh(f, acct.RefreshToken).Expect(t, 401, "REFRESH_TOKEN_INVALID")
	f.Post("/token/logout", `{}`, acct.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	// The other device is still logged in.
	if !alive(t, env, other.AccessToken) {
		t.Fatal("logout ended another session")
	}
	refresh(f, other.RefreshToken).Expect(t, 200, "OK")
}

func TestLogoutEverywhere(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	devices := []*functest.Account{acct, env.LogIn(acct.User), env.LogIn(acct.User)}
	bystander := env.SignUp(nil)
	a := f.Post("/token/logout", `{"all":true}`, acct.AccessToken).Expect(t, 200, "OK")
	if a.RoundTrips != 1 {
		t.Errorf("logout all took %d round trips, budget is 1", a.RoundTrips)
	}
	for i, d := range devices {
		if alive(t, env, d.AccessToken) {
			t.Fatalf("device %d still logged in", i)
		}
		refresh(f, d.RefreshToken).Expect(t, 401, "REFRESH_TOKEN_INVALID")
	}
	if n := len(env.User(acct.User.ID).Sessions); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	if !alive(t, env, bystander.AccessToken) {
		t.Fatal("another user was logged out")
	}
}

func TestLogoutProblems(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	f.Post("/token/logout", `{}`, "").Expect(t, 401, "UNAUTHORIZED")
	f.Post("/token/logout", `{}`, "abc").Expect(t, 401, "UNAUTHORIZED")
	f.Post("/token/logout", `{"all":"yes"}`, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "all")
	f.Post("/token/logout", `{"everywhere":true}`, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "everywhere")
	env.Clock.Advance(2*time.Hour + time.Second)
	f.Post("/token/logout", `{}`, acct.AccessToken).Expect(t, 401, "TOKEN_EXPIRED")
}

func TestDirectInvocation(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(func(u *store.User) { u.Nickname = "direct" })
	a := f.Direct(map[string]any{"action": "refresh", "refreshToken": acct.RefreshToken}).Expect(t, 0, "OK")
	if a.Str("user.nickname") != "direct" {
		t.Fatalf("refresh: %s", a.Raw)
	}
	f.Direct(map[string]any{"refreshToken": a.Str("refreshToken")}).Expect(t, 0, "INVALID_REQUEST").Field(t, "action")
	f.Direct(map[string]any{"action": "logout"}).Expect(t, 0, "UNAUTHORIZED")
	f.Direct(map[string]any{"action": "logout", "accessToken": a.Str("accessToken"), "all": true}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"action": "refresh", "refreshToken": a.Str("refreshToken")}).Expect(t, 0, "REFRESH_TOKEN_INVALID")
}

// TestRefreshTokenFromBeforeTheUpgrade refreshes a token issued before
// sessions moved into accounts: it names its session but not its account,
// which the upgrade (scripts/migrate) recorded.
func TestRefreshTokenFromBeforeTheUpgrade(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	now := env.Clock.Now()
	sid, secret := token.NewSessionID(), token.NewSecret()
	record := store.Session{TokenHash: token.HashSecret(secret), Method: "sms", CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, err := env.Store.AddSession(t.Context(), acct.User.ID, nil, sid, record); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SaveLegacySession(t.Context(), sid, acct.User.ID, record.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	old := token.Refresh{SessionID: sid, Secret: secret}.String()
	if strings.Count(old, ".") != 2 {
		t.Fatalf("not a token of the earlier format: %s", old)
	}
	a := refresh(f, old).Expect(t, 200, "OK")
	if a.Str("user.id") != acct.User.ID.Hex() || strings.Count(a.Str("refreshToken"), ".") != 3 {
		t.Fatalf("refresh of an earlier token: %s", a.Raw)
	}
	refresh(f, a.Str("refreshToken")).Expect(t, 200, "OK")
	unknown := token.Refresh{SessionID: token.NewSessionID(), Secret: token.NewSecret()}.String()
	refresh(f, unknown).Expect(t, 401, "REFRESH_TOKEN_INVALID")
}
