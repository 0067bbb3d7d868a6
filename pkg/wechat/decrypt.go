package wechat

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/wxauth/scf-auth/pkg/apierror"
)

// DecryptPhone decrypts the legacy getPhoneNumber data (encryptedData, iv)
// with the session_key of the same login: AES-128-CBC, PKCS#7 padding
// checked strictly, then the watermark's appid checked against this app.
// Malformed fields are INVALID_REQUEST; data that does not decrypt under
// this login's key, or that was made for another app, is
// WECHAT_CODE_INVALID: the client should log in and ask again.
func DecryptPhone(sessionKey, encryptedData, iv, appID string) (*Phone, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return nil, apierror.WeChatDown(errors.New("wechat: session_key is not 16 bytes of base64"))
	}
	data, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, apierror.BadField("encryptedData", "must be base64 of whole AES blocks")
	}
	ivBytes, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivBytes) != aes.BlockSize {
		return nil, apierror.BadField("iv", "must be base64 of 16 bytes")
	}
	block, _ := aes.NewCipher(key) // 16-byte key checked above
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, ivBytes).CryptBlocks(plain, data)
	plain, err = unpad(plain)
	if err != nil {
		return nil, apierror.WeChatCode(errors.New("wechat: encryptedData does not decrypt with this login's session key"))
	}
	var info phoneInfo
	if err := json.Unmarshal(plain, &info); err != nil {
		return nil, apierror.WeChatCode(errors.New("wechat: decrypted data is not the phone number JSON"))
	}
	return info.check(appID)
}

// unpad removes PKCS#7 padding, checking every padding byte.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("empty")
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, errors.New("bad padding")
	}
	for _, p := range b[len(b)-n:] {
		if int(p) != n {
			return nil, errors.New("bad padding")
		}
	}
	return b[:len(b)-n], nil
}
