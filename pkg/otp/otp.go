// Package otp makes and checks the 6-digit SMS login codes. Codes come from
// crypto/rand, and only a keyed hash of each is ever stored: a plain hash of
// six digits would be reversed by trying all million.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
)

// Length is the number of digits of a code.
const Length = 6

var million = big.NewInt(1_000_000)

// Generate returns a uniformly random 6-digit code.
func Generate() (string, error) {
	n, err := rand.Int(rand.Reader, million)
	if err != nil {
		return "", fmt.Errorf("otp: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// NewNonce returns a random id for one code.
func NewNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Hasher hashes codes under a server key.
type Hasher struct{ key []byte }

// NewHasher returns a hasher keyed with key.
func NewHasher(key []byte) *Hasher { return &Hasher{key: key} }

// Hash binds a code to its phone and nonce, so a hash is useless for any
// other phone or code.
func (h *Hasher) Hash(phone, nonce, code string) []byte {
	m := hmac.New(sha256.New, h.key)
	fmt.Fprintf(m, "%s\x00%s\x00%s", phone, nonce, code)
	return m.Sum(nil)
}

// Matches reports, in constant time, whether code is the one hashed as want.
func (h *Hasher) Matches(phone, nonce, code string, want []byte) bool {
	return hmac.Equal(h.Hash(phone, nonce, code), want)
}

// WellFormed reports whether s could be a code: exactly six ASCII digits.
func WellFormed(s string) bool {
	if len(s) != Length {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
