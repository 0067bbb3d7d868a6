package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Sizes of the random parts.
const (
	sessionIDBytes = 16
	secretBytes    = 32
	maxGeneration  = 1 << 30
)

// ErrMalformedRefresh means a refresh token is not of our format.
var ErrMalformedRefresh = errors.New("token: malformed refresh token")

// Refresh is a parsed refresh token: "<user>.<session>.<gen>.<secret>".
// UserID names the account (24 hex digits), Gen is the session's rotation
// count when it was issued, Secret is what only its holder knows. Tokens
// issued before sessions moved into accounts have no user part; UserID is
// then empty.
type Refresh struct {
	UserID    string
	SessionID string
	Gen       int
	Secret    []byte
}

var b64 = base64.RawURLEncoding

// String is the token as the client holds it.
func (r Refresh) String() string {
	s := r.SessionID + "." + strconv.Itoa(r.Gen) + "." + b64.EncodeToString(r.Secret)
	if r.UserID != "" {
		s = r.UserID + "." + s
	}
	return s
}

// ParseRefresh parses a refresh token strictly.
func ParseRefresh(s string) (Refresh, error) {
	parts := strings.Split(s, ".")
	var r Refresh
	switch len(parts) {
	case 4:
		if !IsUserID(parts[0]) {
			return Refresh{}, ErrMalformedRefresh
		}
		r.UserID, parts = parts[0], parts[1:]
	case 3: // issued before the upgrade
	default:
		return Refresh{}, ErrMalformedRefresh
	}
	if len(parts[0]) != b64.EncodedLen(sessionIDBytes) || len(parts[2]) != b64.EncodedLen(secretBytes) {
		return Refresh{}, ErrMalformedRefresh
	}
	if _, err := b64.DecodeString(parts[0]); err != nil {
		return Refresh{}, ErrMalformedRefresh
	}
	gen, err := strconv.Atoi(parts[1])
	if err != nil || gen < 0 || gen > maxGeneration || strconv.Itoa(gen) != parts[1] {
		return Refresh{}, ErrMalformedRefresh
	}
	secret, err := b64.DecodeString(parts[2])
	if err != nil {
		return Refresh{}, ErrMalformedRefresh
	}
	r.SessionID, r.Gen, r.Secret = parts[0], gen, secret
	return r, nil
}

// IsUserID reports whether s has the shape of an account id, the subject
// of an access token: 24 lower-case hex digits.
func IsUserID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f') {
			return false
		}
	}
	return true
}

// NewSessionID returns a random session id.
func NewSessionID() string { return b64.EncodeToString(random(sessionIDBytes)) }

// NewSecret returns a random refresh secret.
func NewSecret() []byte { return random(secretBytes) }

// HashSecret is what the store keeps of a refresh secret. A 256-bit random
// secret needs no key or salt to be safe from guessing.
func HashSecret(secret []byte) []byte {
	h := sha256.Sum256(secret)
	return h[:]
}

// Rotator derives each refresh secret from the one before, under a server
// key: two concurrent refreshes of one token compute the same successor,
// and a thief holding an old secret cannot compute the newer ones.
type Rotator struct{ key []byte }

// NewRotator returns a rotator keyed with key.
func NewRotator(key []byte) *Rotator { return &Rotator{key: key} }

// Next returns the secret that succeeds secret.
func (r *Rotator) Next(secret []byte) []byte {
	m := hmac.New(sha256.New, r.key)
	m.Write(secret)
	return m.Sum(nil)
}

// Descends reports whether, after steps rotations, secret leads to the
// secret hashed as want: whether it is a genuine older token of that chain.
func (r *Rotator) Descends(secret []byte, steps int, want []byte) bool {
	for i := 0; i < steps; i++ {
		secret = r.Next(secret)
	}
	return hmac.Equal(HashSecret(secret), want)
}

// DeriveKey derives an independent key for purpose from the master secret,
// so one configured secret serves several uses without reusing a key.
func DeriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("scf-auth/" + purpose))
	return m.Sum(nil)
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}
