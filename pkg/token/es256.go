package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// deterministicES256 signs ES256 with RFC 6979 deterministic nonces, which
// crypto/ecdsa uses when given no random source, and verifies as
// golang-jwt's ES256 does. Like HS256 and Ed25519 signatures, its
// signatures then depend on the key and the claims alone, so two
// concurrent refreshes of one session answer the same access token.
// RFC 6979 signatures are standard ES256 signatures: every verifier takes
// them. It is not registered with golang-jwt: parsing never picks it.
type deterministicES256 struct{}

func (deterministicES256) Alg() string { return string(ES256) }

func (deterministicES256) Verify(signingString string, sig []byte, key any) error {
	return jwt.SigningMethodES256.Verify(signingString, sig, key)
}

// Sign returns r || s, each 32 bytes big-endian (RFC 7518 §3.4).
func (deterministicES256) Sign(signingString string, key any) ([]byte, error) {
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	digest := sha256.Sum256([]byte(signingString))
	der, err := priv.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, errors.New("token: ECDSA signature is not ASN.1 (r, s)")
	}
	sig := make([]byte, 64)
	rs.R.FillBytes(sig[:32])
	rs.S.FillBytes(sig[32:])
	return sig, nil
}
