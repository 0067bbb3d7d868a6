package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer signs and verifies the deployment's access tokens: with HS256
// and JWT_SECRET by default, or with ES256 or EdDSA and the first of the
// signing keys, every listed key verifying.
type Issuer struct {
	issuer string
	ttl    time.Duration
	alg    Alg
	secret []byte
	// signing is the key that signs, nil for HS256.
	signing  *SigningKey
	verifier *Verifier
	// former recognises, on a deployment that moved from HS256 to ES256 or
	// EdDSA, the tokens JWT_SECRET signed before; nil otherwise.
	former *Verifier
	jwks   JWKSet
}

// Option configures an Issuer.
type Option func(*issuerOptions)

type issuerOptions struct {
	keys []SigningKey
}

// WithSigningKeys makes the issuer sign with the first key, which carries
// its kid, and verify with every key (JWT_SIGNING_KEYS). The keys share
// one algorithm, as ParseSigningKeys returns them.
func WithSigningKeys(keys []SigningKey) Option {
	return func(o *issuerOptions) { o.keys = keys }
}

// NewIssuer returns an issuer for issuer, with tokens living ttl, reading
// time from now. It signs with HS256 and secret (JWT_SECRET) unless given
// signing keys.
func NewIssuer(secret []byte, issuer string, ttl time.Duration, now func() time.Time, opts ...Option) *Issuer {
	var o issuerOptions
	for _, opt := range opts {
		opt(&o)
	}
	i := &Issuer{issuer: issuer, ttl: ttl, alg: HS256, secret: secret, jwks: JWKSet{Keys: []JWK{}}}
	if len(o.keys) == 0 {
		i.verifier = NewVerifier(secretKey(secret), []Alg{HS256}, issuer, now)
		return i
	}
	i.alg, i.signing = o.keys[0].alg, &o.keys[0]
	i.verifier = NewVerifier(newKeySet(o.keys), []Alg{i.alg}, issuer, now)
	if len(secret) > 0 {
		i.former = NewVerifier(secretKey(secret), []Alg{HS256}, issuer, now)
	}
	for _, k := range o.keys {
		i.jwks.Keys = append(i.jwks.Keys, k.public)
	}
	return i
}

// TTL is how long the tokens this issuer signs live.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Alg is the algorithm the issuer signs with.
func (i *Issuer) Alg() Alg { return i.alg }

// JWKS is the JWK Set of the public keys that verify the issuer's tokens;
// empty for HS256, whose key is secret.
func (i *Issuer) JWKS() JWKSet {
	return JWKSet{Keys: append([]JWK{}, i.jwks.Keys...)}
}

// Sign returns an access token for the user's session issued at issuedAt.
// The same arguments give the same token (HMAC, Ed25519 and RFC 6979
// ECDSA are deterministic), which lets two concurrent refreshes of one
// session answer the same pair.
func (i *Issuer) Sign(userID, sessionID string, issuedAt time.Time) (string, error) {
	claims := Claims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(issuedAt),
			ExpiresAt: jwt.NewNumericDate(issuedAt.Add(i.ttl)),
		},
	}
	if i.signing == nil {
		return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.secret)
	}
	var method jwt.SigningMethod = jwt.SigningMethodEdDSA
	if i.alg == ES256 {
		method = deterministicES256{}
	}
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = i.signing.id
	return t.SignedString(i.signing.secret.signer)
}

// Verify checks a token and returns its claims. On a deployment that
// moved from HS256 to ES256 or EdDSA, a token JWT_SECRET signed before the
// move is ErrExpired, so that clients refresh into the new algorithm
// rather than being logged out; it is never accepted. Any other HS256
// token there is ErrInvalid, like every token of an algorithm or key the
// deployment does not sign with.
func (i *Issuer) Verify(raw string) (*Claims, error) {
	ctx := context.Background() // the issuer's keys are in memory
	claims, alg, err := i.verifier.verify(ctx, raw)
	if err != nil && i.former != nil && alg == string(HS256) && errors.Is(err, ErrInvalid) {
		if _, _, formerErr := i.former.verify(ctx, raw); formerErr == nil || errors.Is(formerErr, ErrExpired) {
			return nil, fmt.Errorf("%w: signed with JWT_SECRET before JWT_ALG became %s", ErrExpired, i.alg)
		}
	}
	return claims, err
}
