package main

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/authn"
	"github.com/wxauth/scf-auth/pkg/authn/authnstore"
	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

// TestATeamFunctionAuthenticatesWithTheServedJWKS runs package authn as
// one of the team's functions would: the JWK Set fetched over HTTP from
// this function, sessions read from its database, logouts and rotations
// done through it.
func TestATeamFunctionAuthenticatesWithTheServedJWKS(t *testing.T) {
	env := functest.New(t)
	oldKey, _ := tokentest.PEM(t, token.EdDSA)
	asymmetric(env, token.EdDSA, oldKey)
	login := serve(t, tokenFn(env))
	auth, err := authn.New(authn.Options{
		JWKSURL: login.URL + "/token/jwks", Accounts: authnstore.New(env.Store, env.Clock.Now), Now: env.Clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	event := func(access string) []byte {
		b, _ := json.Marshal(map[string]any{"httpMethod": "POST", "path": "/orders", "body": `{"item":1}`,
			"headers": map[string]string{"authorization": "Bearer " + access, "x-scf-remote-addr": "203.0.113.5"}})
		return b
	}
	codeOf := func(err error) apierror.Code {
		var e *apierror.Error
		if !errors.As(err, &e) {
			t.Fatalf("%v is not an *apierror.Error", err)
		}
		return e.Code
	}

	acct := env.SignUp(nil)
	if p, err := auth.AuthenticateSession(t.Context(), event(acct.AccessToken)); err != nil || p.UserID != acct.User.ID.Hex() {
		t.Fatalf("AuthenticateSession = %+v, %v", p, err)
	}
	// A logout through the login is seen at once by the session check,
	// and not by the signature check.
	tokenFn(env).Post("/token/logout", `{}`, acct.AccessToken).Expect(t, 200, "OK")
	if _, err := auth.AuthenticateSession(t.Context(), event(acct.AccessToken)); codeOf(err) != apierror.Unauthorized {
		t.Fatalf("after logout: %v", err)
	}
	if _, err := auth.Authenticate(t.Context(), event(acct.AccessToken)); err != nil {
		t.Fatalf("the signature is still good: %v", err)
	}

	// The login rotates: a new key published and signing, the old removed.
	newKey, _ := tokentest.PEM(t, token.EdDSA)
	asymmetric(env, token.EdDSA, newKey, oldKey)
	login.Serve(tokenFn(env))
	env.Clock.Advance(time.Minute) // past the refetch floor
	fresh := env.SignUp(nil)
	if _, err := auth.Authenticate(t.Context(), event(fresh.AccessToken)); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	asymmetric(env, token.EdDSA, oldKey)
	old := env.LogIn(acct.User) // a session whose token the old key signed
	asymmetric(env, token.EdDSA, newKey)
	login.Serve(tokenFn(env))
	if _, err := auth.Authenticate(t.Context(), event(old.AccessToken)); err != nil {
		t.Fatalf("within the keys' max age the old key verifies: %v", err)
	}
	env.Clock.Advance(5 * time.Minute)
	if _, err := auth.Authenticate(t.Context(), event(old.AccessToken)); codeOf(err) != apierror.Unauthorized {
		t.Fatalf("a token of the removed key: %v", err)
	}
	if _, err := auth.AuthenticateSession(t.Context(), event(fresh.AccessToken)); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
}
