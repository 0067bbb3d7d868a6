package token_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wxauth/scf-auth/pkg/token"
)

var (
	key = []byte("0123456789abcdef0123456789abcdef")
	t0  = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
)

func issuerAt(now time.Time) *token.Issuer {
	return token.NewIssuer(key, "scf-auth", 2*time.Hour, func() time.Time { return now })
}

func sign(t *testing.T, method jwt.SigningMethod, k any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withHeader signs claims with the deployment's key and a header field.
func withHeader(t *testing.T, field string, value any, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header[field] = value
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	good, err := issuerAt(t0).Sign("u1", "s1", t0)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(mutate func(*token.Claims)) *token.Claims {
		c := &token.Claims{SessionID: "s1", RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "scf-auth", Subject: "u1", IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour)),
		}}
		mutate(c)
		return c
	}
	tests := []struct {
		name  string
		token string
		now   time.Time
		want  error
	}{
		{"valid", good, t0.Add(time.Hour), nil},
		{"expired", good, t0.Add(2*time.Hour + time.Second), token.ErrExpired},
		{"empty", "", t0, token.ErrInvalid},
		{"garbage", "not.a.jwt", t0, token.ErrInvalid},
		{"truncated", good[:len(good)-5], t0, token.ErrInvalid},
		{"forged signature", sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!!"), claims(func(*token.Claims) {})), t0, token.ErrInvalid},
		{"forged and expired stays invalid", sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!!"), claims(func(*token.Claims) {})), t0.Add(3 * time.Hour), token.ErrInvalid},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(func(*token.Claims) {})), t0, token.ErrInvalid},
		{"HS512", sign(t, jwt.SigningMethodHS512, key, claims(func(*token.Claims) {})), t0, token.ErrInvalid},
		{"no expiry", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.ExpiresAt = nil })), t0, token.ErrInvalid},
		{"other issuer", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.Issuer = "evil" })), t0, token.ErrInvalid},
		{"other issuer and expired stays invalid", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.Issuer = "evil" })), t0.Add(3 * time.Hour), token.ErrInvalid},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(time.Hour)) })), t0, token.ErrInvalid},
		{"issued two minutes ahead of this clock", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(2 * time.Minute)) })), t0, token.ErrInvalid},
		{"issued by a clock 30s ahead", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(30 * time.Second)) })), t0, nil},
		{"no session", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.SessionID = "" })), t0, token.ErrInvalid},
		{"no subject", sign(t, jwt.SigningMethodHS256, key, claims(func(c *token.Claims) { c.Subject = "" })), t0, token.ErrInvalid},
		{"critical extensions", withHeader(t, "crit", []string{"foo"}, claims(func(*token.Claims) {})), t0, token.ErrInvalid},
		{"critical extensions, none named", withHeader(t, "crit", []string{}, claims(func(*token.Claims) {})), t0, token.ErrInvalid},
		{"critical extensions and expired stays invalid", withHeader(t, "crit", []string{"exp"}, claims(func(*token.Claims) {})), t0.Add(3 * time.Hour), token.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := issuerAt(tt.now).Verify(tt.token)
			if tt.want == nil {
				if err != nil || c.Subject != "u1" || c.SessionID != "s1" {
					t.Fatalf("Verify = %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignIsDeterministic(t *testing.T) {
	a, _ := issuerAt(t0).Sign("u1", "s1", t0.Add(300*time.Millisecond))
	b, _ := issuerAt(t0.Add(time.Second)).Sign("u1", "s1", t0.Add(700*time.Millisecond))
	if a != b {
		t.Fatal("same user, session and second gave different tokens")
	}
}

func TestRefreshRoundTrip(t *testing.T) {
	r := token.Refresh{SessionID: token.NewSessionID(), Gen: 12, Secret: token.NewSecret()}
	got, err := token.ParseRefresh(r.String())
	if err != nil || got.SessionID != r.SessionID || got.Gen != 12 || !bytes.Equal(got.Secret, r.Secret) {
		t.Fatalf("ParseRefresh(String()) = %+v, %v", got, err)
	}
	s := r.String()
	for _, bad := range []string{
		"", "a.b.c", s + "x", s[:len(s)-1], strings.Replace(s, ".12.", ".-1.", 1),
		strings.Replace(s, ".12.", ".012.", 1), strings.Replace(s, ".12.", "..", 1),
		strings.Replace(s, ".12.", ".1e3.", 1), s + ".x", strings.Replace(s, ".", "!", 1),
	} {
		if _, err := token.ParseRefresh(bad); !errors.Is(err, token.ErrMalformedRefresh) {
			t.Errorf("ParseRefresh(%q) = %v, want ErrMalformedRefresh", bad, err)
		}
	}
}

func TestRotatorChain(t *testing.T) {
	rot := token.NewRotator(token.DeriveKey(key, "refresh"))
	s0 := token.NewSecret()
	s1 := rot.Next(s0)
	s2 := rot.Next(s1)
	if !bytes.Equal(rot.Next(s0), s1) {
		t.Fatal("Next is not deterministic")
	}
	if !rot.Descends(s0, 2, token.HashSecret(s2)) || !rot.Descends(s2, 0, token.HashSecret(s2)) {
		t.Fatal("genuine old secret not recognised")
	}
	if rot.Descends(token.NewSecret(), 2, token.HashSecret(s2)) {
		t.Fatal("unrelated secret recognised")
	}
	other := token.NewRotator(token.DeriveKey([]byte("another master secret, 32 bytes!"), "refresh"))
	if bytes.Equal(other.Next(s0), s1) {
		t.Fatal("successor does not depend on the server key")
	}
}

func ExampleIssuer_Verify() {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	issuer := token.NewIssuer([]byte("0123456789abcdef0123456789abcdef"), "scf-auth", 2*time.Hour, func() time.Time { return now })
	access, _ := issuer.Sign("665f1c2e9b1e8a3d4c5b6a79", "session-1", now)
	claims, err := issuer.Verify(access)
	fmt.Println(claims.Subject, claims.SessionID, err)

	now = now.Add(3 * time.Hour)
	_, err = issuer.Verify(access)
	fmt.Println(errors.Is(err, token.ErrExpired))
	// Output:
	// 665f1c2e9b1e8a3d4c5b6a79 session-1 <nil>
	// true
}
