package account

import (
	"crypto/rand"
	"math/big"
)

// nicknameAlphabet is what generated nicknames are made of after 用户.
const nicknameAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GeneratedNickname is the nickname of a new account (API.md §3): 用户 and
// six random letters or digits, never derived from the phone number or the
// openid.
func GeneratedNickname() string {
	b := []byte("用户")
	n := big.NewInt(int64(len(nicknameAlphabet)))
	for i := 0; i < 6; i++ {
		k, _ := rand.Int(rand.Reader, n) // crypto/rand never fails on supported platforms
		b = append(b, nicknameAlphabet[k.Int64()])
	}
	return string(b)
}
