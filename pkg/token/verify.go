package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sentinel errors of verification. Any other error from Verify is the
// keyring's: the token could not be judged (a JWK Set that could not be
// fetched), which is not the token's fault.
var (
	// ErrExpired means the token is genuine but past its expiry.
	ErrExpired = errors.New("token: expired")
	// ErrInvalid means the token is missing, malformed, forged or not ours.
	ErrInvalid = errors.New("token: invalid")
	// ErrUnknownKey is a keyring's answer for a kid it does not hold, or
	// holds for another algorithm.
	ErrUnknownKey = errors.New("token: no such key")
)

// Claims are the claims of an access token. Subject is the user id.
type Claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Keyring finds the key that verifies a token, by the alg and kid of its
// header. It answers ErrUnknownKey when it has none.
type Keyring interface {
	VerificationKey(ctx context.Context, alg, kid string) (any, error)
}

// Verifier checks access tokens strictly: one of its algorithms, a key of
// its keyring, an expiry, its issuer, a subject and a session.
type Verifier struct {
	keys   Keyring
	now    func() time.Time
	parser *jwt.Parser
}

// NewVerifier returns a verifier of tokens signed with one of algs by a
// key of keys, issued by issuer, reading time from now.
func NewVerifier(keys Keyring, algs []Alg, issuer string, now func() time.Time) *Verifier {
	methods := make([]string, len(algs))
	for i, a := range algs {
		methods[i] = string(a)
	}
	return &Verifier{keys: keys, now: now, parser: jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(now),
	)}
}

// Verify checks a token and returns its claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	claims, _, err := v.verify(ctx, raw)
	return claims, err
}

// verify is Verify, also giving the algorithm the token's header names
// ("" when it has no readable header).
func (v *Verifier) verify(ctx context.Context, raw string) (*Claims, string, error) {
	if raw == "" {
		return nil, "", fmt.Errorf("%w: no token", ErrInvalid)
	}
	var claims Claims
	tok, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			// RFC 7515 §4.1.11: extensions a verifier must understand;
			// we sign with none and understand none.
			return nil, errCritical
		}
		kid, _ := t.Header["kid"].(string)
		return v.keys.VerificationKey(ctx, t.Method.Alg(), kid)
	})
	alg := ""
	if tok != nil && tok.Method != nil {
		alg = tok.Method.Alg()
	}
	switch {
	case err == nil:
	case keyringFailed(err):
		return nil, alg, fmt.Errorf("token: keys unavailable: %w", err)
	case onlyExpired(err):
		return nil, alg, ErrExpired
	default:
		return nil, alg, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if claims.Subject == "" || claims.SessionID == "" {
		return nil, alg, fmt.Errorf("%w: sub or sid missing", ErrInvalid)
	}
	// Instances' clocks differ a little: a token signed by one a moment
	// "in the future" of another is still good. Much further is not.
	if claims.IssuedAt != nil && claims.IssuedAt.After(v.now().Add(IssuedAtLeeway)) {
		return nil, alg, fmt.Errorf("%w: issued in the future", ErrInvalid)
	}
	return &claims, alg, nil
}

// errCritical refuses a token whose header names critical extensions.
var errCritical = errors.New("token: crit header")

// IssuedAtLeeway is how far in the future of this instance's clock a token
// may have been issued.
const IssuedAtLeeway = time.Minute

// keyringFailed reports whether err holds a keyring's own failure (such as
// an outage), which golang-jwt passes on inside ErrTokenUnverifiable.
func keyringFailed(err error) bool {
	var k interface{ Unavailable() bool }
	return errors.As(err, &k) && k.Unavailable()
}

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

// secretKey is the keyring of HS256: JWT_SECRET, whatever the kid.
type secretKey []byte

func (s secretKey) VerificationKey(_ context.Context, alg, _ string) (any, error) {
	if alg != string(HS256) {
		return nil, ErrUnknownKey
	}
	return []byte(s), nil
}
