// Package tokentest makes signing keys for tests, as an operator makes
// them for JWT_SIGNING_KEYS (openssl genpkey writes the same PKCS#8 PEM).
package tokentest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/wxauth/scf-auth/pkg/token"
)

// PEM returns a fresh private key for alg (ES256 or EdDSA) as a PKCS#8
// PEM block, and the key itself.
func PEM(t testing.TB, alg token.Alg) (string, any) {
	t.Helper()
	var key any
	var err error
	switch alg {
	case token.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case token.EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("tokentest: no keys for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Encode(t, key), key
}

// Encode writes a private key as a PKCS#8 PEM block.
func Encode(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// KeyID is the kid the key of a PEM block signs with.
func KeyID(t testing.TB, alg token.Alg, pemText string) string {
	t.Helper()
	keys, err := token.ParseSigningKeys(alg, pemText)
	if err != nil {
		t.Fatal(err)
	}
	return keys[0].ID()
}
