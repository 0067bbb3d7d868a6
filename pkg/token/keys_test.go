package token_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/token"
)

// pemOf is key as JWT_SIGNING_KEYS holds it: a PKCS#8 PEM block.
func pemOf(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func parseKeys(t testing.TB, alg token.Alg, text string) []token.SigningKey {
	t.Helper()
	keys, err := token.ParseSigningKeys(alg, text)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestEd25519KidIsTheRFC8037Thumbprint takes the key of RFC 8037 appendix
// A.1 and checks its kid against the thumbprint appendix A.3 gives.
func TestEd25519KidIsTheRFC8037Thumbprint(t *testing.T) {
	seed, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	keys := parseKeys(t, token.EdDSA, pemOf(t, ed25519.NewKeyFromSeed(seed)))
	if got := keys[0].ID(); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("kid = %s, want RFC 8037's kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", got)
	}
	if jwk := keys[0].PublicJWK(); jwk.Kty != "OKP" || jwk.Crv != "Ed25519" || jwk.X != "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" || jwk.Alg != "EdDSA" || jwk.Use != "sig" {
		t.Fatalf("JWK = %+v", jwk)
	}
}

// TestES256KidIsTheThumbprint recomputes an EC key's JWK and RFC 7638
// thumbprint another way: coordinates from the standard library's PKIX
// encoding, canonical JSON from encoding/json's sorted map keys.
func TestES256KidIsTheThumbprint(t *testing.T) {
	priv := newP256(t)
	keys := parseKeys(t, token.ES256, pemOf(t, priv))
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	point := der[len(der)-65:] // the uncompressed point ends the SubjectPublicKeyInfo
	x, y := base64.RawURLEncoding.EncodeToString(point[1:33]), base64.RawURLEncoding.EncodeToString(point[33:])
	canonical, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y})
	sum := sha256.Sum256(canonical)
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	jwk := keys[0].PublicJWK()
	if jwk.X != x || jwk.Y != y || jwk.Kid != want || keys[0].ID() != want || jwk.Thumbprint() != want {
		t.Fatalf("JWK %+v, want x %s y %s kid %s", jwk, x, y, want)
	}
}

func TestParseSigningKeys(t *testing.T) {
	ec1, ec2, ed := newP256(t), newP256(t), newEd25519(t)
	keys := parseKeys(t, token.ES256, pemOf(t, ec1)+"\n"+pemOf(t, ec2))
	if len(keys) != 2 || keys[0].ID() == keys[1].ID() || keys[0].Alg() != token.ES256 {
		t.Fatalf("two keys: %v", keys)
	}
	// One line, with \n for the line breaks, as a console may need it.
	oneLine := strings.ReplaceAll(pemOf(t, ed), "\n", `\n`)
	if keys := parseKeys(t, token.EdDSA, oneLine); keys[0].Alg() != token.EdDSA {
		t.Fatalf("one-line key: %v", keys)
	}
}

func TestBadSigningKeysSayWhichAndWhy(t *testing.T) {
	ec, ed := newP256(t), newEd25519(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	block := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	good := pemOf(t, ec)
	tests := []struct {
		name, text string
		alg        token.Alg
		want       string
	}{
		{"empty", "", token.ES256, "is required when JWT_ALG is ES256"},
		{"not PEM", "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg", token.ES256, "holds no PEM block"},
		{"SEC 1", block("EC PRIVATE KEY", sec1), token.ES256, "key 1 is a SEC 1 key"},
		{"encrypted", block("ENCRYPTED PRIVATE KEY", []byte("x")), token.ES256, "key 1 is encrypted"},
		{"public", block("PUBLIC KEY", pub), token.ES256, "key 1 is a public key"},
		{"certificate", block("CERTIFICATE", []byte("x")), token.ES256, `key 1 is a "CERTIFICATE" PEM block`},
		{"broken DER", block("PRIVATE KEY", []byte("not DER")), token.ES256, "key 1 is not a valid PKCS#8 private key"},
		{"P-384", pemOf(t, p384), token.ES256, "key 1 is an ECDSA P-384 key: ES256 needs P-256"},
		{"RSA", pemOf(t, rsaKey), token.ES256, "key 1 is an RSA key"},
		{"Ed25519 for ES256", good + pemOf(t, ed), token.ES256, "key 2 is a key for EdDSA, but JWT_ALG is ES256"},
		{"P-256 for EdDSA", pemOf(t, ec), token.EdDSA, "key 1 is a key for ES256, but JWT_ALG is EdDSA"},
		{"twice", good + good, token.ES256, "key 2 is key 1 again"},
		{"trailing text", good + "and more", token.ES256, "has text after key 1"},
		{"HS256", good, token.HS256, "HS256 signs with JWT_SECRET"},
	}
	secretParts := []string{strings.Split(good, "\n")[1], strings.Split(pemOf(t, rsaKey), "\n")[2]}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := token.ParseSigningKeys(tt.alg, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			for _, part := range secretParts {
				if strings.Contains(err.Error(), part) {
					t.Fatalf("error quotes the key: %v", err)
				}
			}
		})
	}
}

// TestSigningKeysAreNeverPrinted prints a key every way a log line might.
func TestSigningKeysAreNeverPrinted(t *testing.T) {
	priv := newEd25519(t)
	k := parseKeys(t, token.EdDSA, pemOf(t, priv))[0]
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "key", k, "keys", []token.SigningKey{k})
	printed := []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k),
		fmt.Sprintf("%+v", struct{ Keys []token.SigningKey }{[]token.SigningKey{k}}),
		fmt.Sprintf("%+v %#v", struct{ key token.SigningKey }{k}, struct{ key token.SigningKey }{k}),
		logged.String(),
	}
	seed := priv.Seed()
	forms := []string{
		base64.StdEncoding.EncodeToString(seed), base64.RawURLEncoding.EncodeToString(seed),
		fmt.Sprintf("%x", seed[:8]), fmt.Sprint(seed[:8])[1:20], strings.Split(pemOf(t, priv), "\n")[1][:24],
	}
	for _, out := range printed {
		for _, form := range forms {
			if strings.Contains(out, form) {
				t.Fatalf("the private key shows in %q", out)
			}
		}
	}
	if fmt.Sprint(k) != "EdDSA key "+k.ID() {
		t.Fatalf("String() = %q", fmt.Sprint(k))
	}
}

func TestParseAlg(t *testing.T) {
	for in, want := range map[string]token.Alg{"HS256": token.HS256, "es256": token.ES256, "EdDSA": token.EdDSA, "EDDSA": token.EdDSA} {
		if got, err := token.ParseAlg(in); err != nil || got != want {
			t.Errorf("ParseAlg(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"RS256", "none", "ES384", "Ed25519", ""} {
		if _, err := token.ParseAlg(bad); err == nil {
			t.Errorf("ParseAlg(%q) accepted", bad)
		}
	}
}
