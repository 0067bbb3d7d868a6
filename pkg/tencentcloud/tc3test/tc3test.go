// Package tc3test verifies Tencent Cloud API 3.0 request signatures
// (TC3-HMAC-SHA256) as Tencent Cloud documents them, independently of the
// SDK, for the local fakes of its APIs (SMS, Captcha): the real client
// code runs against them, signatures included.
package tc3test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Keys are the credentials a fake accepts.
type Keys struct {
	SecretID, SecretKey string
	// Token, when set, is the session token temporary keys must carry.
	Token string
	// MaxSkew is how far the signing time may be from now; 5 minutes when
	// zero, as Tencent Cloud allows.
	MaxSkew time.Duration
}

// Verify recomputes the signature of a request to service and compares it
// with the one sent.
func (k Keys) Verify(r *http.Request, body []byte, service string) error {
	auth := r.Header.Get("Authorization")
	const algo = "TC3-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return errors.New("not TC3-HMAC-SHA256")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ", ") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return errors.New("malformed Authorization")
		}
		fields[name] = value
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 4 || scope[0] != k.SecretID || scope[2] != service || scope[3] != "tc3_request" {
		return errors.New("unknown SecretId or scope")
	}
	if k.Token != "" && r.Header.Get("X-TC-Token") != k.Token {
		return errors.New("wrong session token")
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	skew := k.MaxSkew
	if skew == 0 {
		skew = 5 * time.Minute
	}
	signedAt := time.Unix(ts, 0).UTC()
	if d := time.Since(signedAt); d > skew || d < -skew {
		return errors.New("timestamp too far from now")
	}
	if scope[1] != signedAt.Format("2006-01-02") {
		return errors.New("scope date does not match timestamp")
	}
	var canonHeaders strings.Builder
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canonHeaders.WriteString(strings.ToLower(h) + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	payloadHash := sha256.Sum256(body)
	canonical := strings.Join([]string{
		r.Method, "/", r.URL.RawQuery, canonHeaders.String(), fields["SignedHeaders"], hex.EncodeToString(payloadHash[:]),
	}, "\n")
	canonicalHash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{
		"TC3-HMAC-SHA256", r.Header.Get("X-TC-Timestamp"), strings.Join(scope[1:], "/"), hex.EncodeToString(canonicalHash[:]),
	}, "\n")
	key := mac([]byte("TC3"+k.SecretKey), scope[1])
	key = mac(key, service)
	key = mac(key, "tc3_request")
	want := hex.EncodeToString(mac(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return errors.New("signature mismatch")
	}
	return nil
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
