package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Alg is a JWT signing algorithm the deployment may sign with (JWT_ALG).
type Alg string

// The algorithms of JWT_ALG. HS256 signs with JWT_SECRET; ES256 (ECDSA on
// P-256) and EdDSA (Ed25519) sign with the first key of JWT_SIGNING_KEYS,
// so that other services verify with the public keys alone.
const (
	HS256 Alg = "HS256"
	ES256 Alg = "ES256"
	EdDSA Alg = "EdDSA"
)

// ParseAlg reads a JWT_ALG value; case does not matter.
func ParseAlg(s string) (Alg, error) {
	for _, a := range []Alg{HS256, ES256, EdDSA} {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", errors.New(`must be "HS256", "ES256" or "EdDSA"`)
}

// Asymmetric reports whether a signs with a private key whose public key
// others verify with.
func (a Alg) Asymmetric() bool { return a == ES256 || a == EdDSA }

// SigningKey is one private key of JWT_SIGNING_KEYS and its key id, the
// RFC 7638 thumbprint of its public key. Printing or logging one shows
// only its algorithm and id: the private key sits behind a pointer, which
// fmt prints as an address even inside other values.
type SigningKey struct {
	alg    Alg
	id     string
	public JWK
	secret *privateKey
}

type privateKey struct{ signer crypto.Signer }

// Alg is the algorithm the key signs with.
func (k SigningKey) Alg() Alg { return k.alg }

// ID is the key id (kid) of the tokens the key signs.
func (k SigningKey) ID() string { return k.id }

// PublicJWK is the key's public half as a JWK, as GET /token/jwks lists it.
func (k SigningKey) PublicJWK() JWK { return k.public }

// String names the key without showing it.
func (k SigningKey) String() string { return string(k.alg) + " key " + k.id }

// GoString names the key without showing it, for %#v.
func (k SigningKey) GoString() string { return "token.SigningKey(" + k.String() + ")" }

// LogValue names the key without showing it, for log/slog.
func (k SigningKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// ParseSigningKeys reads JWT_SIGNING_KEYS: one or more PEM blocks of
// unencrypted PKCS#8 private keys ("BEGIN PRIVATE KEY", as openssl genpkey
// writes them), each fitting alg (a P-256 key for ES256, an Ed25519 key
// for EdDSA). Since many consoles take a variable on one line, a literal
// \n stands for a line break; PEM's base64 never holds a backslash, so
// this cannot change a key. Errors say which key (counting from 1) is
// wrong and why, never what it holds.
func ParseSigningKeys(alg Alg, text string) ([]SigningKey, error) {
	if !alg.Asymmetric() {
		return nil, fmt.Errorf("is for ES256 and EdDSA; %s signs with JWT_SECRET", alg)
	}
	rest := []byte(strings.ReplaceAll(text, `\n`, "\n"))
	var keys []SigningKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		k, err := parseSigningKey(alg, block)
		if err != nil {
			return nil, fmt.Errorf("key %d %w", n, err)
		}
		for i, seen := range keys {
			if seen.id == k.id {
				return nil, fmt.Errorf("key %d is key %d again", n, i+1)
			}
		}
		keys = append(keys, k)
	}
	switch {
	case strings.TrimSpace(string(rest)) != "" && len(keys) == 0:
		return nil, errors.New("holds no PEM block: paste the whole file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----")
	case strings.TrimSpace(string(rest)) != "":
		return nil, fmt.Errorf("has text after key %d that is not a PEM block", len(keys))
	case len(keys) == 0:
		return nil, fmt.Errorf("is required when JWT_ALG is %s", alg)
	}
	return keys, nil
}

// parseSigningKey reads one PEM block; its error completes "key N ...".
func parseSigningKey(alg Alg, block *pem.Block) (SigningKey, error) {
	switch block.Type {
	case "PRIVATE KEY":
	case "EC PRIVATE KEY":
		return SigningKey{}, errors.New("is a SEC 1 key (BEGIN EC PRIVATE KEY): convert it to PKCS#8 with openssl pkcs8 -topk8 -nocrypt")
	case "ENCRYPTED PRIVATE KEY":
		return SigningKey{}, errors.New("is encrypted: give the unencrypted PKCS#8 key")
	case "PUBLIC KEY":
		return SigningKey{}, errors.New("is a public key: JWT_SIGNING_KEYS holds private keys")
	default:
		return SigningKey{}, fmt.Errorf("is a %q PEM block, not a PKCS#8 private key (BEGIN PRIVATE KEY)", block.Type)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return SigningKey{}, errors.New("is not a valid PKCS#8 private key")
	}
	var signer crypto.Signer
	var fits Alg
	switch key := parsed.(type) {
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P256() {
			return SigningKey{}, fmt.Errorf("is an ECDSA %s key: ES256 needs P-256", key.Curve.Params().Name)
		}
		signer, fits = key, ES256
	case ed25519.PrivateKey:
		signer, fits = key, EdDSA
	case *rsa.PrivateKey:
		return SigningKey{}, errors.New("is an RSA key: use a P-256 key (ES256) or an Ed25519 key (EdDSA)")
	default:
		return SigningKey{}, fmt.Errorf("is a %T, which signs neither ES256 nor EdDSA", parsed)
	}
	if fits != alg {
		return SigningKey{}, fmt.Errorf("is a key for %s, but JWT_ALG is %s", fits, alg)
	}
	public, err := publicJWK(signer.Public())
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{alg: alg, id: public.Kid, public: public, secret: &privateKey{signer: signer}}, nil
}
