package token_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wxauth/scf-auth/pkg/token"
)

func asymmetricIssuer(t testing.TB, now time.Time, keys []token.SigningKey) *token.Issuer {
	t.Helper()
	return token.NewIssuer(key, "scf-auth", 2*time.Hour, func() time.Time { return now }, token.WithSigningKeys(keys))
}

// header decodes a token's JOSE header.
func header(t testing.TB, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// verifyES256 checks a token's signature with nothing but the standard
// library: the key rebuilt from the JWK's x and y, SHA-256, and r || s.
func verifyES256(t testing.TB, raw string, jwk token.JWK) bool {
	t.Helper()
	x, _ := base64.RawURLEncoding.DecodeString(jwk.X)
	y, _ := base64.RawURLEncoding.DecodeString(jwk.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(raw, ".")
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if err != nil || len(sig) != 64 {
		return false
	}
	digest := sha256.Sum256([]byte(raw[:i]))
	return ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

func TestES256AndEdDSASignAndVerify(t *testing.T) {
	for _, alg := range []token.Alg{token.ES256, token.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			var text string
			if alg == token.ES256 {
				text = pemOf(t, newP256(t)) + pemOf(t, newP256(t))
			} else {
				text = pemOf(t, newEd25519(t)) + pemOf(t, newEd25519(t))
			}
			keys := parseKeys(t, alg, text)
			iss := asymmetricIssuer(t, t0, keys)
			raw, err := iss.Sign("u1", "s1", t0)
			if err != nil {
				t.Fatal(err)
			}
			h := header(t, raw)
			if h["alg"] != string(alg) || h["kid"] != keys[0].ID() {
				t.Fatalf("header %v, want alg %s kid %s (the first key)", h, alg, keys[0].ID())
			}
			c, err := iss.Verify(raw)
			if err != nil || c.Subject != "u1" || c.SessionID != "s1" {
				t.Fatalf("Verify = %+v, %v", c, err)
			}
			again, _ := asymmetricIssuer(t, t0.Add(time.Second), keys).Sign("u1", "s1", t0)
			if again != raw {
				t.Fatal("the same claims signed twice gave two tokens: concurrent refreshes would answer different pairs")
			}
			jwks := iss.JWKS()
			if len(jwks.Keys) != 2 || jwks.Keys[0] != keys[0].PublicJWK() || jwks.Keys[1] != keys[1].PublicJWK() {
				t.Fatalf("JWKS %+v", jwks)
			}
			if alg == token.ES256 && !verifyES256(t, raw, jwks.Keys[0]) {
				t.Fatal("the standard library does not verify the token with the published key")
			}
			if alg == token.EdDSA {
				x, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].X)
				i := strings.LastIndex(raw, ".")
				sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
				if !ed25519.Verify(x, []byte(raw[:i]), sig) {
					t.Fatal("the standard library does not verify the token with the published key")
				}
			}
			// The second key verifies too: what it signed stays good while listed.
			second := asymmetricIssuer(t, t0, []token.SigningKey{keys[1], keys[0]})
			other, _ := second.Sign("u2", "s2", t0)
			if c, err := iss.Verify(other); err != nil || c.Subject != "u2" {
				t.Fatalf("a token of the second key: %+v, %v", c, err)
			}
		})
	}
}

// TestRotation follows the README's procedure: add the new key, make it
// the signer, then remove the old one.
func TestRotation(t *testing.T) {
	oldKey, newKey := parseKeys(t, token.ES256, pemOf(t, newP256(t)))[0], parseKeys(t, token.ES256, pemOf(t, newP256(t)))[0]
	before := asymmetricIssuer(t, t0, []token.SigningKey{oldKey})
	old, _ := before.Sign("u1", "s1", t0)

	during := asymmetricIssuer(t, t0.Add(time.Hour), []token.SigningKey{newKey, oldKey})
	if _, err := during.Verify(old); err != nil {
		t.Fatalf("a token of the old key, still listed: %v", err)
	}
	fresh, _ := during.Sign("u1", "s1", t0.Add(time.Hour))
	if header(t, fresh)["kid"] != newKey.ID() {
		t.Fatal("the new key does not sign")
	}

	after := asymmetricIssuer(t, t0.Add(time.Hour), []token.SigningKey{newKey})
	if _, err := after.Verify(old); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("a token of the removed key: %v, want ErrInvalid", err)
	}
	if _, err := after.Verify(fresh); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
}

// TestAlgorithmConfusion tries what an attacker holding only public data
// (the JWK Set) or another key would try against an ES256 deployment.
func TestAlgorithmConfusion(t *testing.T) {
	priv := newP256(t)
	keys := parseKeys(t, token.ES256, pemOf(t, priv))
	listed := keys[0]
	iss := asymmetricIssuer(t, t0, keys)
	claims := &token.Claims{SessionID: "s1", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "scf-auth", Subject: "u1", IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour)),
	}}
	withKid := func(method jwt.SigningMethod, kid string, k any) string {
		tok := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	jwkJSON, _ := json.Marshal(listed.PublicJWK())
	pkix, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	point, _ := priv.PublicKey.Bytes()
	stranger, edStranger := newP256(t), newEd25519(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name, token string
	}{
		{"HS256 keyed with the public JWK", withKid(jwt.SigningMethodHS256, listed.ID(), jwkJSON)},
		{"HS256 keyed with the public key's DER", withKid(jwt.SigningMethodHS256, listed.ID(), pkix)},
		{"HS256 keyed with the public point", withKid(jwt.SigningMethodHS256, "", point)},
		{"HS256 with another secret", withKid(jwt.SigningMethodHS256, "", []byte("another-key-another-key-another!!"))},
		{"alg none", withKid(jwt.SigningMethodNone, listed.ID(), jwt.UnsafeAllowNoneSignatureType)},
		{"ES256 by an unlisted key", withKid(jwt.SigningMethodES256, "", stranger)},
		{"ES256 by an unlisted key claiming a listed kid", withKid(jwt.SigningMethodES256, listed.ID(), stranger)},
		{"EdDSA by an unlisted key claiming a listed kid", withKid(jwt.SigningMethodEdDSA, listed.ID(), edStranger)},
		{"ES256 by the listed key without a kid", withKid(jwt.SigningMethodES256, "", priv)},
		{"ES256 by the listed key with another kid", withKid(jwt.SigningMethodES256, "other", priv)},
		{"ES384 header", withKid(jwt.SigningMethodES384, listed.ID(), p384)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := iss.Verify(tt.token); !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
	// The listed key with its kid, signed by golang-jwt's own ES256: good.
	if _, err := iss.Verify(withKid(jwt.SigningMethodES256, listed.ID(), priv)); err != nil {
		t.Fatalf("a genuine ES256 token: %v", err)
	}
}

// TestES256TokenOnAnHS256Deployment is confusion the other way: the
// default deployment takes only HS256 under JWT_SECRET.
func TestES256TokenOnAnHS256Deployment(t *testing.T) {
	keys := parseKeys(t, token.ES256, pemOf(t, newP256(t)))
	es, _ := asymmetricIssuer(t, t0, keys).Sign("u1", "s1", t0)
	if _, err := issuerAt(t0).Verify(es); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("Verify = %v, want ErrInvalid", err)
	}
}

// TestTokensFromBeforeTheMoveToES256 are HS256 tokens the deployment
// signed with JWT_SECRET before JWT_ALG changed: expired, so that clients
// refresh into ES256 instead of being logged out; never accepted.
func TestTokensFromBeforeTheMoveToES256(t *testing.T) {
	old, _ := issuerAt(t0).Sign("u1", "s1", t0)
	iss := asymmetricIssuer(t, t0.Add(time.Minute), parseKeys(t, token.ES256, pemOf(t, newP256(t))))
	c, err := iss.Verify(old)
	if !errors.Is(err, token.ErrExpired) || c != nil {
		t.Fatalf("Verify = %+v, %v, want ErrExpired", c, err)
	}
	forged := sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!!"), &token.Claims{SessionID: "s1", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "scf-auth", Subject: "u1", ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour)),
	}})
	if _, err := iss.Verify(forged); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("a forged HS256 token: %v, want ErrInvalid", err)
	}
}

func TestVerifyWithThePublishedJWKSet(t *testing.T) {
	keys := parseKeys(t, token.EdDSA, pemOf(t, newEd25519(t)))
	iss := asymmetricIssuer(t, t0, keys)
	raw, _ := iss.Sign("u1", "s1", t0)
	published, _ := json.Marshal(iss.JWKS())
	set, err := token.ParseJWKSet(published)
	if err != nil || set.Len() != 1 || !set.Has(keys[0].ID()) {
		t.Fatalf("ParseJWKSet = %v, %v", set, err)
	}
	v := token.NewVerifier(set, []token.Alg{token.ES256, token.EdDSA}, "scf-auth", func() time.Time { return t0 })
	if c, err := v.Verify(t.Context(), raw); err != nil || c.Subject != "u1" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	hs, _ := issuerAt(t0).Sign("u1", "s1", t0)
	if _, err := v.Verify(t.Context(), hs); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("an HS256 token against a JWK Set: %v", err)
	}
}

func TestParseJWKSet(t *testing.T) {
	ec := parseKeys(t, token.ES256, pemOf(t, newP256(t)))[0].PublicJWK()
	set := func(members ...any) []byte {
		b, _ := json.Marshal(map[string]any{"keys": members})
		return b
	}
	rsa := map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}
	oct := map[string]any{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}
	enc := ec
	enc.Use = "enc"
	good, err := token.ParseJWKSet(set(rsa, oct, enc, ec))
	if err != nil || good.Len() != 1 || !good.Has(ec.Kid) {
		t.Fatalf("other kinds are skipped: %v, %v", good, err)
	}
	if empty, err := token.ParseJWKSet([]byte(`{"keys":[]}`)); err != nil || empty.Len() != 0 {
		t.Fatalf("empty set: %v, %v", empty, err)
	}
	short, offCurve, wrongAlg, noKid := ec, ec, ec, ec
	short.X = short.X[:20]
	offCurve.Y = ec.X
	wrongAlg.Alg = "HS256"
	noKid.Kid = ""
	for name, data := range map[string][]byte{
		"not JSON": []byte("keys"), "no keys": []byte(`{}`), "keys not a list": []byte(`{"keys":{}}`),
		"short x": set(short), "off the curve": set(offCurve), "alg of another kind": set(wrongAlg), "no kid": set(noKid),
	} {
		if _, err := token.ParseJWKSet(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
