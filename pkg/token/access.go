package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sentinel errors of Verify.
var (
	// ErrExpired means the token is genuine but past its expiry.
	ErrExpired = errors.New("token: expired")
	// ErrInvalid means the token is missing, malformed, forged or not ours.
	ErrInvalid = errors.New("token: invalid")
)

// Claims are the claims of an access token. Subject is the user id.
type Claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Issuer signs and verifies access tokens.
type Issuer struct {
	key    []byte
	issuer string
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// NewIssuer returns an issuer signing with key for issuer, with tokens
// living ttl, reading time from now.
func NewIssuer(key []byte, issuer string, ttl time.Duration, now func() time.Time) *Issuer {
	return &Issuer{
		key: key, issuer: issuer, ttl: ttl, now: now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuer(issuer),
			jwt.WithTimeFunc(now),
		),
	}
}

// TTL is how long the tokens this issuer signs live.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Sign returns an access token for the user's session issued at issuedAt.
// The same arguments give the same token, which lets two concurrent
// refreshes of one session answer the same pair.
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
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.key)
}

// Verify checks a token and returns its claims.
func (i *Issuer) Verify(raw string) (*Claims, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: no token", ErrInvalid)
	}
	var claims Claims
	_, err := i.parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return i.key, nil })
	switch {
	case err == nil:
	case onlyExpired(err):
		return nil, ErrExpired
	default:
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if claims.Subject == "" || claims.SessionID == "" {
		return nil, fmt.Errorf("%w: sub or sid missing", ErrInvalid)
	}
	// Instances' clocks differ a little: a token signed by one a moment
	// "in the future" of another is still good. Much further is not.
	if claims.IssuedAt != nil && claims.IssuedAt.After(i.now().Add(IssuedAtLeeway)) {
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalid)
	}
	return &claims, nil
}

// IssuedAtLeeway is how far in the future of this instance's clock a token
// may have been issued.
const IssuedAtLeeway = time.Minute

// onlyExpired reports whether expiry is the only thing wrong: the signature
// was verified (the parser checks it before the claims) and no other claim
// failed. A forged or foreign token that also happens to be old stays
// invalid rather than asking the client to refresh.
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{
		jwt.ErrTokenSignatureInvalid, jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable,
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenNotValidYet, jwt.ErrTokenRequiredClaimMissing,
	} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}
