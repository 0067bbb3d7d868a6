package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

// TestRotatingTheSigningKeys follows the README's procedure from outside:
// a token of the old key works while the key is listed and is refused
// once it is removed; the JWK Set follows each step.
func TestRotatingTheSigningKeys(t *testing.T) {
	env := functest.New(t)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	oldKey, _ := tokentest.PEM(t, token.ES256)
	newKey, _ := tokentest.PEM(t, token.ES256)
	oldID, newID := tokentest.KeyID(t, token.ES256, oldKey), tokentest.KeyID(t, token.ES256, newKey)
	kids := func(f *functest.Function) string {
		_, keys := fetchJWKS(t, f, false)
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.Kid)
		}
		return strings.Join(ids, ",")
	}

	asymmetric(env, token.ES256, oldKey)
	old := env.SignUp(nil)

	// 1. Publish the new key beside the old one: it verifies, the old one signs.
	asymmetric(env, token.ES256, oldKey, newKey)
	f := tokenFn(env)
	if got := kids(f); got != oldID+","+newID {
		t.Fatalf("step 1 publishes %s", got)
	}
	// 2. The new key signs; the old one still verifies.
	asymmetric(env, token.ES256, newKey, oldKey)
	f = tokenFn(env)
	if a := introspect(f, old.AccessToken).Expect(t, 200, "OK"); a.Get("active") != true {
		t.Fatalf("a token of the old key, still listed: %s", a.Raw)
	}
	fresh := env.SignUp(nil)
	if kid := header(t, fresh.AccessToken)["kid"]; kid != newID {
		t.Fatalf("after step 2 tokens carry kid %v, want the new key's", kid)
	}
	r := refresh(f, old.RefreshToken).Expect(t, 200, "OK")
	if kid := header(t, r.Str("accessToken"))["kid"]; kid != newID {
		t.Fatalf("a refresh answers kid %v, want the new key's", kid)
	}
	// 3. After ACCESS_TOKEN_TTL the old key goes: what it signed is refused.
	asymmetric(env, token.ES256, newKey)
	f = tokenFn(env)
	if got := kids(f); got != newID {
		t.Fatalf("step 3 publishes %s", got)
	}
	inactive(t, introspect(f, old.AccessToken))
	f.Post("/token/logout", `{}`, old.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	if a := introspect(f, fresh.AccessToken).Expect(t, 200, "OK"); a.Get("active") != true {
		t.Fatalf("a token of the new key: %s", a.Raw)
	}
	if a := introspect(f, r.Str("accessToken")).Expect(t, 200, "OK"); a.Get("active") != true {
		t.Fatalf("the refreshed token: %s", a.Raw)
	}
}

// TestAlgorithmConfusionFromOutside sends an ES256 deployment the tokens
// an attacker holding only its JWK Set, or another key, can make.
func TestAlgorithmConfusionFromOutside(t *testing.T) {
	env := functest.New(t)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	pem, priv := tokentest.PEM(t, token.ES256)
	asymmetric(env, token.ES256, pem)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	a, keys := fetchJWKS(t, f, false)
	published := []byte(a.Raw)
	jwkJSON, _ := json.Marshal(keys[0])
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(acct.AccessToken, &claims); err != nil {
		t.Fatal(err)
	}
	sign := func(method jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, stranger := tokentest.PEM(t, token.ES256)
	_, edStranger := tokentest.PEM(t, token.EdDSA)
	for _, tt := range []struct{ name, token string }{
		{"HS256 keyed with the JWK Set", sign(jwt.SigningMethodHS256, keys[0].Kid, published)},
		{"HS256 keyed with the JWK", sign(jwt.SigningMethodHS256, keys[0].Kid, jwkJSON)},
		{"HS256 keyed with x", sign(jwt.SigningMethodHS256, "", []byte(keys[0].X))},
		{"alg none", sign(jwt.SigningMethodNone, keys[0].Kid, jwt.UnsafeAllowNoneSignatureType)},
		{"ES256 by an unlisted key", sign(jwt.SigningMethodES256, "", stranger)},
		{"ES256 by an unlisted key with the listed kid", sign(jwt.SigningMethodES256, keys[0].Kid, stranger)},
		{"EdDSA with the listed kid", sign(jwt.SigningMethodEdDSA, keys[0].Kid, edStranger)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.Post("/token/logout", `{}`, tt.token).Expect(t, 401, "UNAUTHORIZED")
			inactive(t, introspect(f, tt.token))
		})
	}
	// The same claims signed by the listed key are good: the refusals
	// above are the algorithm's and the key's, not the claims'.
	if a := introspect(f, sign(jwt.SigningMethodES256, keys[0].Kid, priv)).Expect(t, 200, "OK"); a.Get("active") != true {
		t.Fatalf("genuine token: %s", a.Raw)
	}
}

// TestES256TokenOnAnHS256Deployment is the confusion the other way.
func TestES256TokenOnAnHS256Deployment(t *testing.T) {
	env := functest.New(t)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	pem, _ := tokentest.PEM(t, token.ES256)
	asymmetric(env, token.ES256, pem)
	es := env.SignUp(nil)
	delete(env.Vars, "JWT_ALG")
	delete(env.Vars, "JWT_SIGNING_KEYS")
	f := tokenFn(env)
	f.Post("/token/logout", `{}`, es.AccessToken).Expect(t, 401, "UNAUTHORIZED")
	inactive(t, introspect(f, es.AccessToken))
}

// TestMovingFromHS256 switches a deployment with live sessions to ES256:
// the HS256 access tokens it signed before are TOKEN_EXPIRED (refresh),
// never accepted, and the refresh answers an ES256 token; nobody is
// logged out.
func TestMovingFromHS256(t *testing.T) {
	env := functest.New(t)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	before := env.SignUp(nil)
	pem, _ := tokentest.PEM(t, token.ES256)
	asymmetric(env, token.ES256, pem)
	f := tokenFn(env)
	f.Post("/token/logout", `{}`, before.AccessToken).Expect(t, 401, "TOKEN_EXPIRED")
	inactive(t, introspect(f, before.AccessToken))
	a := refresh(f, before.RefreshToken).Expect(t, 200, "OK")
	if hdr := header(t, a.Str("accessToken")); hdr["alg"] != "ES256" || hdr["kid"] != tokentest.KeyID(t, token.ES256, pem) {
		t.Fatalf("refreshed token header %v", hdr)
	}
	if a := introspect(f, a.Str("accessToken")).Expect(t, 200, "OK"); a.Get("active") != true {
		t.Fatalf("refreshed token: %s", a.Raw)
	}
}

// TestBadSigningKeysStopTheFunction: a key that is malformed or does not
// fit JWT_ALG stops the function at cold start; every request answers
// INTERNAL, the log names the variable and never shows the key.
func TestBadSigningKeysStopTheFunction(t *testing.T) {
	ec, _ := tokentest.PEM(t, token.ES256)
	ed, _ := tokentest.PEM(t, token.EdDSA)
	for _, tt := range []struct{ name, alg, keys, says string }{
		{"an EdDSA key for ES256", "ES256", ec + ed, "key 2 is a key for EdDSA, but JWT_ALG is ES256"},
		{"an ES256 key for EdDSA", "EdDSA", ec, "key 1 is a key for ES256, but JWT_ALG is EdDSA"},
		{"no key", "ES256", "", "is required when JWT_ALG is ES256"},
		{"not a key", "EdDSA", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "key 1 is not a valid PKCS#8 private key"},
		{"keys for HS256", "HS256", ec, "but JWT_ALG is HS256"},
		{"an unknown algorithm", "RS256", ec, "JWT_ALG must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			env.Vars["JWT_ALG"], env.Vars["JWT_SIGNING_KEYS"] = tt.alg, tt.keys
			f := tokenFn(env)
			f.HTTP(functest.Request{Method: "GET", Path: "/token/jwks"}).Expect(t, 500, "INTERNAL")
			f.Direct(map[string]any{"action": "refresh", "refreshToken": "x"}).Expect(t, 0, "INTERNAL")
			logs := env.Logs.String()
			if !strings.Contains(logs, tt.says) {
				t.Fatalf("log does not say %q:\n%s", tt.says, logs)
			}
			for _, line := range strings.Split(ec+ed, "\n") {
				if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(logs, line) {
					t.Fatalf("the log shows a key:\n%s", logs)
				}
			}
		})
	}
}

// TestKeysNeverReachTheLogs runs a deployment's every route and checks its
// log for the private key.
func TestKeysNeverReachTheLogs(t *testing.T) {
	env := functest.New(t)
	env.Vars["LOG_LEVEL"] = "debug"
	pem, _ := tokentest.PEM(t, token.EdDSA)
	asymmetric(env, token.EdDSA, pem)
	f := tokenFn(env)
	acct := env.SignUp(nil)
	fetchJWKS(t, f, false)
	f.Direct(map[string]any{"action": "introspect", "token": acct.AccessToken}).Expect(t, 0, "OK")
	a := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
	f.Post("/token/logout", `{}`, a.Str("accessToken")).Expect(t, 200, "OK")
	logs := env.Logs.String()
	body := strings.Split(pem, "\n")[1]
	if strings.Contains(logs, body) || strings.Contains(logs, body[:16]) {
		t.Fatalf("the log shows the key:\n%s", logs)
	}
}

func header(t *testing.T, raw string) map[string]any {
	t.Helper()
	var claims jwt.MapClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header
}
