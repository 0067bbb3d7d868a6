package main

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

const introspectToken = "introspect-0123456789abcdef-0123456789"

// introspect asks over HTTP with INTROSPECT_TOKEN as the bearer.
func introspect(f *functest.Function, access string) *functest.Answer {
	return f.Post("/token/introspect", functest.Body("token", access), introspectToken)
}

// inactive fails unless the answer is exactly {"active": false}.
func inactive(t *testing.T, a *functest.Answer) {
	t.Helper()
	a.Expect(t, a.Status, "OK")
	if a.Get("active") != false || len(a.Data) != 1 {
		t.Fatalf("want only active false: %s", a.Raw)
	}
	if a.RoundTrips > 1 {
		t.Errorf("introspection took %d round trips, budget is 1", a.RoundTrips)
	}
}

func TestIntrospectALiveToken(t *testing.T) {
	for _, alg := range []token.Alg{token.HS256, token.ES256} {
		t.Run(string(alg), func(t *testing.T) {
			env := functest.New(t)
			env.Vars["INTROSPECT_TOKEN"] = introspectToken
			if alg != token.HS256 {
				pem, _ := tokentest.PEM(t, alg)
				asymmetric(env, alg, pem)
			}
			f := tokenFn(env)
			acct := env.SignUp(nil)
			issued := env.Clock.Now()
			env.Clock.Advance(time.Minute)
			a := introspect(f, acct.AccessToken).Expect(t, 200, "OK")
			if a.Get("active") != true || a.Str("sub") != acct.User.ID.Hex() || a.Str("sid") == "" ||
				int64(a.Num("iat")) != issued.Unix() || int64(a.Num("exp")) != issued.Add(2*time.Hour).Unix() {
				t.Fatalf("introspection %s", a.Raw)
			}
			if a.RoundTrips != 1 {
				t.Errorf("introspection took %d round trips, budget is 1", a.RoundTrips)
			}
			// The sid is the session's: logging it out makes it inactive.
			if sessions := env.User(acct.User.ID).Sessions; sessions[a.Str("sid")].CreatedAt.IsZero() {
				t.Fatalf("sid %s is not a session of the account", a.Str("sid"))
			}
			d := f.Direct(map[string]any{"action": "introspect", "token": acct.AccessToken}).Expect(t, 0, "OK")
			if d.Get("active") != true || d.Str("sub") != acct.User.ID.Hex() {
				t.Fatalf("direct introspection %s", d.Raw)
			}
		})
	}
}

func TestIntrospectEndedAndBadTokens(t *testing.T) {
	env := functest.New(t)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	f := tokenFn(env)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, token.Claims{SessionID: "s", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "scf-auth", Subject: env.SignUp(nil).User.ID.Hex(), ExpiresAt: jwt.NewNumericDate(env.Clock.Now().Add(time.Hour)),
	}}).SignedString([]byte("another-secret-another-secret-another"))

	loggedOut := env.SignUp(nil)
	f.Post("/token/logout", `{}`, loggedOut.AccessToken).Expect(t, 200, "OK")

	everywhere := env.SignUp(nil)
	otherDevice := env.LogIn(everywhere.User)
	f.Post("/token/logout", `{"all":true}`, everywhere.AccessToken).Expect(t, 200, "OK")

	reused := env.SignUp(nil)
	refresh(f, reused.RefreshToken).Expect(t, 200, "OK")
	env.Clock.Advance(5 * time.Second) // past the reuse grace
	refresh(f, reused.RefreshToken).Expect(t, 401, "REFRESH_TOKEN_INVALID")

	deleted := env.SignUp(nil)
	if _, err := env.Store.DeleteUser(t.Context(), deleted.User.ID, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	disabled := env.SignUp(nil)
	if err := env.Store.SetDisabled(t.Context(), disabled.User.ID, true); err != nil {
		t.Fatal(err)
	}
	expiring := env.SignUp(nil)
	live := env.SignUp(nil)

	for _, tt := range []struct{ name, token string }{
		{"logged out", loggedOut.AccessToken},
		{"logged out everywhere", otherDevice.AccessToken},
		{"revoked for refresh-token reuse", reused.AccessToken},
		{"account deleted", deleted.AccessToken},
		{"account disabled", disabled.AccessToken},
		{"forged", forged},
		{"garbage", "not.a.token"},
		{"truncated", live.AccessToken[:len(live.AccessToken)-4]},
		{"a refresh token", live.RefreshToken},
	} {
		t.Run(tt.name, func(t *testing.T) { inactive(t, introspect(f, tt.token)) })
	}
	introspect(f, live.AccessToken).Expect(t, 200, "OK")
	env.Clock.Advance(2*time.Hour + time.Second)
	t.Run("expired", func(t *testing.T) { inactive(t, introspect(f, expiring.AccessToken)) })

	// An operator's enable makes the disabled account's token live again.
	if err := env.Store.SetDisabled(t.Context(), disabled.User.ID, false); err != nil {
		t.Fatal(err)
	}
	fresh := env.LogIn(disabled.User)
	if a := introspect(f, fresh.AccessToken).Expect(t, 200, "OK"); a.Get("active") != true {
		t.Fatalf("re-enabled account: %s", a.Raw)
	}
}

func TestIntrospectionNeedsTheIntrospectToken(t *testing.T) {
	env := functest.New(t)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	f := tokenFn(env)
	acct := env.SignUp(nil)
	body := functest.Body("token", acct.AccessToken)
	for _, tt := range []struct{ name, bearer string }{
		{"none", ""},
		{"wrong", strings.Repeat("x", len(introspectToken))},
		{"a prefix", introspectToken[:len(introspectToken)-1]},
		{"longer", introspectToken + "x"},
		{"the user's own access token", acct.AccessToken},
		{"JWT_SECRET", functest.JWTSecret},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.Post("/token/introspect", body, tt.bearer).Expect(t, 401, "UNAUTHORIZED")
			if a.Get("active") != nil {
				t.Fatalf("answered an introspection: %s", a.Raw)
			}
		})
	}
	a := f.HTTP(functest.Request{Method: "POST", Path: "/introspect", Body: body, FunctionURL: true,
		Headers: map[string]string{"Authorization": "bearer " + introspectToken}}).Expect(t, 200, "OK")
	if a.Get("active") != true {
		t.Fatalf("function URL introspection: %s", a.Raw)
	}
	// Bad requests from an authorised caller name the field.
	f.Post("/token/introspect", `{}`, introspectToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "token")
	f.Post("/token/introspect", `{"token":""}`, introspectToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "token")
	f.Post("/token/introspect", `{"token":12}`, introspectToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "token")
	f.Post("/token/introspect", `{"token":"x","token_type_hint":"access_token"}`, introspectToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "token_type_hint")
	f.Do("GET", "/token/introspect", "", introspectToken).Expect(t, 405, "METHOD_NOT_ALLOWED")
	f.Direct(map[string]any{"action": "introspect"}).Expect(t, 0, "INVALID_REQUEST").Field(t, "token")
}

func TestHTTPIntrospectionIsOffWithoutTheVariable(t *testing.T) {
	env := functest.New(t)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	f.Post("/token/introspect", functest.Body("token", acct.AccessToken), "").Expect(t, 401, "UNAUTHORIZED")
	f.Post("/token/introspect", functest.Body("token", acct.AccessToken), introspectToken).Expect(t, 401, "UNAUTHORIZED")
	if !strings.Contains(env.Logs.String(), "INTROSPECT_TOKEN is unset") {
		t.Error("the log does not say why")
	}
	// The team's own functions invoke it directly, allowed by SCF.
	a := f.Direct(map[string]any{"action": "introspect", "token": acct.AccessToken}).Expect(t, 0, "OK")
	if a.Get("active") != true || a.RoundTrips != 1 {
		t.Fatalf("direct introspection: %s (%d round trips)", a.Raw, a.RoundTrips)
	}
}

func TestIntrospectionWhileTheDatabaseIsDown(t *testing.T) {
	env := functest.New(t)
	acct := env.SignUp(nil)
	env.DatabaseDown()
	f := tokenFn(env)
	f.Direct(map[string]any{"action": "introspect", "token": acct.AccessToken}).Expect(t, 0, "SERVICE_UNAVAILABLE")
}
