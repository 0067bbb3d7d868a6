package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// JWK is a public key as RFC 7517 writes it, for the two kinds this
// package signs with: EC on P-256 (kty, crv, x, y; RFC 7518 §6.2) and OKP
// Ed25519 (kty, crv, x; RFC 8037 §2).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// JWKSet is a JWK Set (RFC 7517 §5), the body of GET /token/jwks.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// Thumbprint is the key's RFC 7638 thumbprint: SHA-256 over the JSON of
// its required members only, in lexicographic order and without
// whitespace, base64url-encoded without padding. It is the kid of the
// tokens the key signs, so any JOSE library can check that a published
// key is the one it claims to be.
func (k JWK) Thumbprint() string {
	var canonical string
	switch k.Kty {
	case "EC":
		canonical = `{"crv":` + jsonString(k.Crv) + `,"kty":"EC","x":` + jsonString(k.X) + `,"y":` + jsonString(k.Y) + `}`
	default:
		canonical = `{"crv":` + jsonString(k.Crv) + `,"kty":` + jsonString(k.Kty) + `,"x":` + jsonString(k.X) + `}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:])
}

// jsonString is s as a JSON string. The members hashed are curve names and
// base64url, which JSON writes as they are.
func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// publicJWK is the JWK of a public key this package signs with, its kid
// the thumbprint.
func publicJWK(public any) (JWK, error) {
	var k JWK
	switch key := public.(type) {
	case *ecdsa.PublicKey:
		point, err := key.Bytes() // 0x04 || x || y, each 32 bytes on P-256
		if err != nil || len(point) != 65 {
			return JWK{}, errors.New("has an invalid ECDSA public key")
		}
		k = JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(point[1:33]), Y: b64.EncodeToString(point[33:]), Use: "sig", Alg: string(ES256)}
	case ed25519.PublicKey:
		k = JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(key), Use: "sig", Alg: string(EdDSA)}
	default:
		return JWK{}, fmt.Errorf("has a %T public key, which is neither ES256 nor EdDSA", public)
	}
	k.Kid = k.Thumbprint()
	return k, nil
}

// errSkipped marks a JWK of a kind this package does not verify with: RFC
// 7517 §5 asks that such members of a set be ignored, not refused.
var errSkipped = errors.New("not an ES256 or EdDSA signing key")

// verificationKey reads a JWK strictly: a known curve, coordinates of the
// exact length and on the curve, and alg and use, when present, that
// agree with the key. A key is only ever used with the one algorithm its
// kind fits, so no key of a set can verify a token of another algorithm.
func (k JWK) verificationKey() (Alg, any, error) {
	if k.Use != "" && k.Use != "sig" {
		return "", nil, errSkipped
	}
	switch {
	case k.Kty == "EC" && k.Crv == "P-256":
		x, errX := b64.DecodeString(k.X)
		y, errY := b64.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return "", nil, errors.New("has x or y that is not 32 bytes of base64url")
		}
		key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", nil, errors.New("is not a point on P-256")
		}
		return ES256, key, k.algFits(ES256)
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		x, err := b64.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return "", nil, errors.New("has x that is not 32 bytes of base64url")
		}
		return EdDSA, ed25519.PublicKey(x), k.algFits(EdDSA)
	}
	return "", nil, errSkipped
}

func (k JWK) algFits(alg Alg) error {
	if k.Alg != "" && k.Alg != string(alg) {
		return fmt.Errorf("says alg %q, but its kind signs %s", k.Alg, alg)
	}
	return nil
}

// KeySet holds public keys by kid; it verifies tokens signed with ES256 or
// EdDSA by any of them.
type KeySet struct {
	keys []setKey
}

type setKey struct {
	alg Alg
	kid string
	key any
}

// ParseJWKSet reads a JWK Set such as GET /token/jwks answers. Members of
// other kinds (RSA, symmetric, encryption keys) are ignored; a member of a
// kind it verifies with that is malformed, or has no kid, makes it fail.
func ParseJWKSet(data []byte) (*KeySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New("JWK Set: not a JSON object")
	}
	if raw.Keys == nil {
		return nil, errors.New(`JWK Set: no "keys" array`)
	}
	set := &KeySet{}
	for i, member := range raw.Keys {
		var k JWK
		if err := json.Unmarshal(member, &k); err != nil {
			return nil, fmt.Errorf("JWK Set: key %d is not a JWK", i+1)
		}
		alg, key, err := k.verificationKey()
		switch {
		case errors.Is(err, errSkipped):
			continue
		case err != nil:
			return nil, fmt.Errorf("JWK Set: key %d %w", i+1, err)
		case k.Kid == "":
			return nil, fmt.Errorf("JWK Set: key %d has no kid", i+1)
		}
		set.keys = append(set.keys, setKey{alg: alg, kid: k.Kid, key: key})
	}
	return set, nil
}

// newKeySet is the set of the public halves of signing keys.
func newKeySet(keys []SigningKey) *KeySet {
	set := &KeySet{}
	for _, k := range keys {
		set.keys = append(set.keys, setKey{alg: k.alg, kid: k.id, key: k.secret.signer.Public()})
	}
	return set
}

// Len is the number of keys the set verifies with.
func (s *KeySet) Len() int { return len(s.keys) }

// Has reports whether the set holds a key with this kid.
func (s *KeySet) Has(kid string) bool {
	for _, k := range s.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

// VerificationKey implements Keyring: the key with this kid, if it is of
// the token's algorithm.
func (s *KeySet) VerificationKey(_ context.Context, alg, kid string) (any, error) {
	for _, k := range s.keys {
		if k.kid == kid && string(k.alg) == alg {
			return k.key, nil
		}
	}
	return nil, ErrUnknownKey
}
