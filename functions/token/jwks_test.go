package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

// asymmetric configures env to sign with alg and the given PEM keys.
func asymmetric(env *functest.Env, alg token.Alg, keys ...string) {
	env.Vars["JWT_ALG"] = string(alg)
	env.Vars["JWT_SIGNING_KEYS"] = strings.Join(keys, "")
}

// jwk is a member of a JWK Set as a verifier reads it.
type jwk struct {
	Kty, Crv, X, Y, Kid, Use, Alg string
}

// fetchJWKS gets the key set as a JOSE library would: GET, then the whole
// body as the set.
func fetchJWKS(t *testing.T, f *functest.Function, functionURL bool) (*functest.Answer, []jwk) {
	t.Helper()
	a := f.HTTP(functest.Request{Method: "GET", Path: "/token/jwks", FunctionURL: functionURL})
	if a.Status != 200 {
		t.Fatalf("GET /token/jwks: %d %s", a.Status, a.Raw)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	dec := json.NewDecoder(strings.NewReader(a.Raw))
	dec.DisallowUnknownFields() // the set itself, not an envelope around it
	if err := dec.Decode(&set); err != nil || set.Keys == nil {
		t.Fatalf("body is not a JWK Set (%v): %s", err, a.Raw)
	}
	return a, set.Keys
}

// thumbprint is RFC 7638's, computed here without the package under test:
// encoding/json writes map keys sorted, which is the order RFC 7638 asks.
func thumbprint(k jwk) string {
	members := map[string]string{"kty": k.Kty, "crv": k.Crv, "x": k.X}
	if k.Kty == "EC" {
		members["y"] = k.Y
	}
	b, _ := json.Marshal(members)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyWithJWK checks a compact JWS with the standard library alone: the
// public key rebuilt from the JWK, then ECDSA (r || s over SHA-256) or
// Ed25519. It returns the token's header.
func verifyWithJWK(t *testing.T, raw string, k jwk) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %s", raw)
	}
	var hdr map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	signed := []byte(parts[0] + "." + parts[1])
	x, _ := base64.RawURLEncoding.DecodeString(k.X)
	switch k.Kty + "/" + k.Crv {
	case "EC/P-256":
		y, _ := base64.RawURLEncoding.DecodeString(k.Y)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatalf("JWK is not a P-256 key: %v", err)
		}
		digest := sha256.Sum256(signed)
		if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatal("ES256 signature does not verify with the published key")
		}
	case "OKP/Ed25519":
		if !ed25519.Verify(ed25519.PublicKey(x), signed, sig) {
			t.Fatal("EdDSA signature does not verify with the published key")
		}
	default:
		t.Fatalf("unexpected JWK %+v", k)
	}
	return hdr
}

func TestJWKSPublishesEveryKeyAndVerifiesTokens(t *testing.T) {
	for _, alg := range []token.Alg{token.ES256, token.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			env := functest.New(t)
			first, _ := tokentest.PEM(t, alg)
			second, _ := tokentest.PEM(t, alg)
			asymmetric(env, alg, first, second)
			f := tokenFn(env)
			for _, functionURL := range []bool{false, true} {
				a, keys := fetchJWKS(t, f, functionURL)
				if a.RoundTrips != 0 {
					t.Errorf("GET /token/jwks took %d round trips, budget is 0", a.RoundTrips)
				}
				if a.Headers["Cache-Control"] != "public, max-age=300" || !strings.HasPrefix(a.Headers["Content-Type"], "application/json") || a.Headers["X-Request-Id"] == "" {
					t.Errorf("headers %v", a.Headers)
				}
				if len(keys) != 2 {
					t.Fatalf("%d keys published, want both", len(keys))
				}
				for i, k := range keys {
					if k.Kid != thumbprint(k) || k.Use != "sig" || k.Alg != string(alg) {
						t.Errorf("key %d: %+v, kid should be %s", i, k, thumbprint(k))
					}
				}
				if keys[0].Kid != tokentest.KeyID(t, alg, first) || keys[1].Kid != tokentest.KeyID(t, alg, second) {
					t.Errorf("keys out of JWT_SIGNING_KEYS' order")
				}
			}
			_, keys := fetchJWKS(t, f, false)
			acct := env.SignUp(nil)
			hdr := verifyWithJWK(t, acct.AccessToken, keys[0])
			if hdr["alg"] != string(alg) || hdr["kid"] != keys[0].Kid {
				t.Fatalf("header %v: want alg %s and the first key's kid", hdr, alg)
			}
			// The refreshed token is signed the same way.
			r := refresh(f, acct.RefreshToken).Expect(t, 200, "OK")
			verifyWithJWK(t, r.Str("accessToken"), keys[0])
		})
	}
}

func TestJWKSOfAnHS256DeploymentIsEmpty(t *testing.T) {
	env := functest.New(t)
	_, keys := fetchJWKS(t, tokenFn(env), true)
	if len(keys) != 0 {
		t.Fatalf("an HS256 deployment published %v", keys)
	}
}

func TestJWKSDirectAndWrongMethod(t *testing.T) {
	env := functest.New(t)
	pem, _ := tokentest.PEM(t, token.EdDSA)
	asymmetric(env, token.EdDSA, pem)
	f := tokenFn(env)
	a := f.Direct(map[string]any{"action": "jwks"}).Expect(t, 0, "OK")
	keys, _ := a.Get("keys").([]any)
	if len(keys) != 1 || a.RoundTrips != 0 {
		t.Fatalf("direct jwks: %s", a.Raw)
	}
	if k, _ := keys[0].(map[string]any); k["kid"] != tokentest.KeyID(t, token.EdDSA, pem) {
		t.Fatalf("direct jwks: %s", a.Raw)
	}
	f.Direct(map[string]any{"action": "jwks", "extra": 1}).Expect(t, 0, "INVALID_REQUEST").Field(t, "extra")
	// The token function's own URL serves it below its segment.
	for _, path := range []string{"/jwks", "/token/jwks", "/api/token/jwks"} {
		u := f.HTTP(functest.Request{Method: "GET", Path: path, FunctionURL: true})
		if u.Status != 200 || !strings.HasPrefix(u.Raw, `{"keys":[{`) || u.Headers["Cache-Control"] != "public, max-age=300" {
			t.Fatalf("GET %s: %d %v %s", path, u.Status, u.Headers, u.Raw)
		}
	}
	b := f.Do("POST", "/token/jwks", `{}`, "").Expect(t, 405, "METHOD_NOT_ALLOWED")
	if b.Headers["Allow"] != "GET" || b.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("405 headers %v", b.Headers)
	}
}
