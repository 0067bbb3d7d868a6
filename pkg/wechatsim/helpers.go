package wechatsim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// encryptPhone is how WeChat made the legacy encryptedData: the phone info
// JSON, PKCS#7-padded, AES-128-CBC under the login's session key.
func encryptPhone(sessionKey, countryCode, number, watermarkAppID string, now time.Time) (string, string) {
	key, _ := base64.StdEncoding.DecodeString(sessionKey)
	plain, _ := json.Marshal(phoneInfo(countryCode, number, watermarkAppID, now))
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	iv := randomBytes(aes.BlockSize)
	block, _ := aes.NewCipher(key)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out), base64.StdEncoding.EncodeToString(iv)
}

// simLogin mints a login code: GET /sim/login?openid=..[&unionid=..], or
// ?user=alice for the person alice; &app= names a mini-program other than
// the first.
func (s *Sim) simLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appID, id, ok := s.simPerson(w, q.Get("app"), q.Get("user"), q.Get("openid"), q.Get("unionid"))
	if ok {
		writeJSON(w, "application/json", map[string]string{"code": s.NewLoginCodeFor(appID, id)})
	}
}

// simOAuth mints the OAuth code of a 公众号, website or mobile app:
// GET /sim/oauth?app=wx…&user=alice[&scope=snsapi_base].
func (s *Sim) simOAuth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appID, id, ok := s.simPerson(w, q.Get("app"), q.Get("user"), q.Get("openid"), q.Get("unionid"))
	if !ok {
		return
	}
	s.mu.Lock()
	scope := s.defaultScope(appID)
	s.mu.Unlock()
	if q.Get("scope") != "" {
		scope = q.Get("scope")
	}
	writeJSON(w, "application/json", map[string]string{"oauthCode": s.NewOAuthCode(appID, id, scope)})
}

// simPerson reads the app and the person of a /sim/ request, answering
// the error itself when they are not right.
func (s *Sim) simPerson(w http.ResponseWriter, appID, user, openid, unionid string) (string, Identity, bool) {
	if appID == "" {
		appID = s.AppID
	}
	id := Identity{OpenID: openid, UnionID: unionid}
	if user != "" {
		if _, ok := devPart("dev:" + user); !ok {
			http.Error(w, "user must be letters, digits, _ or -", http.StatusBadRequest)
			return "", Identity{}, false
		}
		id = s.DevIdentity(appID, user)
	}
	if id.OpenID == "" {
		http.Error(w, "give user= or openid=", http.StatusBadRequest)
		return "", Identity{}, false
	}
	return appID, id, true
}

// simPhone mints a getPhoneNumber code: GET /sim/phone?number=13800138000
// [&countryCode=86].
func (s *Sim) simPhone(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cc := q.Get("countryCode")
	if cc == "" {
		cc = "86"
	}
	if q.Get("number") == "" {
		http.Error(w, "give number=", http.StatusBadRequest)
		return
	}
	writeJSON(w, "application/json", map[string]string{"phoneCode": s.NewPhoneCode(cc, q.Get("number"))})
}

// simLegacy mints a login code and legacy phone data for it:
// GET /sim/legacy?user=alice&number=13800138000.
func (s *Sim) simLegacy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, ok := s.devIdentity(s.AppID, "dev:"+q.Get("user"))
	if !ok || q.Get("number") == "" {
		http.Error(w, "give user= and number=", http.StatusBadRequest)
		return
	}
	code := s.NewLoginCode(id)
	data, iv, _ := s.LegacyPhoneData(code, "86", q.Get("number"), s.AppID)
	writeJSON(w, "application/json", map[string]string{"loginCode": code, "encryptedData": data, "iv": iv})
}
