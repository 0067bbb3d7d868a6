// Package phone normalises and masks mainland-China mobile numbers.
package phone

import (
	"errors"
	"strings"
)

// CountryCode is the only country SMS login serves.
const CountryCode = "86"

// ErrInvalid means the input is not a mainland-China mobile number.
var ErrInvalid = errors.New("phone: not a mainland-China mobile number")

// maxInput bounds the work done on hostile input before it is rejected.
const maxInput = 32

// Normalize turns user input such as "+86 138-0013-8000" into the 11-digit
// national number "13800138000". Spaces and hyphens are dropped and a +86 or
// 86 prefix is accepted; anything else that is not 1[3-9] followed by nine
// digits is ErrInvalid.
func Normalize(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrInvalid
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		case r == '+' && i == 0:
			b.WriteRune(r)
		default:
			return "", ErrInvalid
		}
	}
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+86"):
		n = n[3:]
	case strings.HasPrefix(n, "+"):
		return "", ErrInvalid
	case len(n) == 13 && strings.HasPrefix(n, "86"):
		n = n[2:]
	}
	if !IsMainlandMobile(n) {
		return "", ErrInvalid
	}
	return n, nil
}

// IsMainlandMobile reports whether n is exactly 1[3-9] and nine more digits.
func IsMainlandMobile(n string) bool {
	if len(n) != 11 || n[0] != '1' || n[1] < '3' || n[1] > '9' {
		return false
	}
	for i := 2; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// Mask hides the middle of a number for logs: "13800138000" → "138****8000".
// Short or odd input is hidden entirely.
func Mask(n string) string {
	if len(n) < 7 {
		return "****"
	}
	return n[:3] + strings.Repeat("*", len(n)-7) + n[len(n)-4:]
}
