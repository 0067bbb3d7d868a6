// Package wechatsim simulates the WeChat server APIs of a mini-program
// login, speaking WeChat's protocol: single-use login and phone codes with
// WeChat's error codes, stable_token semantics (the same token while valid,
// the next one in its last five minutes, a forced refresh invalidating the
// old), getuserphonenumber checking the access token, and the legacy
// encryptedData. Tests drive it through its Go methods; the local gateway
// serves it, with a few /sim/ endpoints that mint codes for developers.
package wechatsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Identity is the WeChat user a login code stands for.
type Identity struct {
	OpenID  string
	UnionID string
}

// Token lifetimes, as WeChat's.
const (
	TokenTTL      = 7200 * time.Second
	refreshWindow = 5 * time.Minute
	codeTTL       = 5 * time.Minute
)

// WeChat error codes the simulator answers.
const (
	ErrBusy          = -1
	ErrTokenInvalid  = 40001
	ErrGrantType     = 40002
	ErrInvalidAppID  = 40013
	ErrInvalidCode   = 40029
	ErrInvalidSecret = 40125
	ErrCodeUsed      = 40163
	ErrTokenExpired  = 42001
	ErrRateLimited   = 45011
)

type login struct {
	id         Identity
	sessionKey string
	issued     time.Time
	used       bool
}

type phoneGrant struct {
	countryCode, number string
	issued              time.Time
	used                bool
}

type accessToken struct {
	expires     time.Time
	invalidated bool
}

// Sim is the simulated WeChat of one mini-program.
type Sim struct {
	AppID, Secret string
	// Now is the simulator's clock; tests move it to expire codes and tokens.
	Now func() time.Time

	mu       sync.Mutex
	logins   map[string]*login
	phones   map[string]*phoneGrant
	tokens   map[string]*accessToken
	current  string
	failures map[string][]int
	calls    map[string]int
}

// New returns a simulator for the app.
func New(appID, secret string) *Sim {
	return &Sim{
		AppID: appID, Secret: secret, Now: time.Now,
		logins: map[string]*login{}, phones: map[string]*phoneGrant{}, tokens: map[string]*accessToken{},
		failures: map[string][]int{}, calls: map[string]int{},
	}
}

// NewServer starts a simulator on a local HTTP server.
func NewServer(appID, secret string) (*Sim, *httptest.Server) {
	s := New(appID, secret)
	return s, httptest.NewServer(s.Handler())
}

// Handler serves WeChat's API paths and the /sim/ helpers.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/sns/jscode2session", s.jscode2session)
	mux.HandleFunc("/cgi-bin/stable_token", s.stableToken)
	mux.HandleFunc("/cgi-bin/token", func(w http.ResponseWriter, r *http.Request) {
		s.count("token")
		writeJSON(w, "application/json", map[string]any{"errcode": 48001, "errmsg": "simulator: use stable_token"})
	})
	mux.HandleFunc("/wxa/business/getuserphonenumber", s.getUserPhoneNumber)
	mux.HandleFunc("/sim/login", s.simLogin)
	mux.HandleFunc("/sim/phone", s.simPhone)
	mux.HandleFunc("/sim/legacy", s.simLegacy)
	return mux
}

// NewLoginCode mints a wx.login() code for id, valid five minutes, once.
func (s *Sim) NewLoginCode(id Identity) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintLogin(randomString(16), id)
}

func (s *Sim) mintLogin(code string, id Identity) string {
	s.logins[code] = &login{id: id, sessionKey: base64.StdEncoding.EncodeToString(randomBytes(16)), issued: s.Now()}
	return code
}

// NewPhoneCode mints a getPhoneNumber code for the number.
func (s *Sim) NewPhoneCode(countryCode, number string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomString(16)
	s.phones[code] = &phoneGrant{countryCode: countryCode, number: number, issued: s.Now()}
	return code
}

// LegacyPhoneData returns what the old getPhoneNumber gave the client:
// the number encrypted with the session key of loginCode, watermarked with
// watermarkAppID (the app's own unless a test forges it).
func (s *Sim) LegacyPhoneData(loginCode, countryCode, number, watermarkAppID string) (encryptedData, iv string, ok bool) {
	s.mu.Lock()
	l, found := s.logins[loginCode]
	s.mu.Unlock()
	if !found {
		return "", "", false
	}
	encryptedData, iv = encryptPhone(l.sessionKey, countryCode, number, watermarkAppID, s.Now())
	return encryptedData, iv, true
}

// FailNext makes the next call of api ("jscode2session", "stable_token",
// "getuserphonenumber") answer errcode.
func (s *Sim) FailNext(api string, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[api] = append(s.failures[api], errcode)
}

// Calls counts the calls of api so far.
func (s *Sim) Calls(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[api]
}

// InvalidateAccessToken makes the current token invalid (40001), as a
// forced refresh elsewhere would.
func (s *Sim) InvalidateAccessToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[s.current]; t != nil {
		t.invalidated = true
	}
	s.current = ""
}

func (s *Sim) count(api string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[api]++
}

// takeFailure pops a queued failure of api; the lock is held.
func (s *Sim) takeFailure(api string) int {
	q := s.failures[api]
	if len(q) == 0 {
		return 0
	}
	s.failures[api] = q[1:]
	return q[0]
}

func (s *Sim) jscode2session(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["jscode2session"]++
	q := r.URL.Query()
	// WeChat labels this JSON text/plain; clients must not rely on the type.
	const ct = "text/plain"
	if code := s.takeFailure("jscode2session"); code != 0 {
		writeError(w, ct, code)
		return
	}
	if code := s.checkApp(q.Get("appid"), q.Get("secret")); code != 0 {
		writeError(w, ct, code)
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		writeError(w, ct, ErrGrantType)
		return
	}
	code := q.Get("js_code")
	l := s.logins[code]
	if l == nil {
		if id, ok := devIdentity(code); ok {
			l = s.logins[s.mintLogin(code, id)]
		}
	}
	switch {
	case l == nil || s.Now().Sub(l.issued) > codeTTL:
		writeError(w, ct, ErrInvalidCode)
		return
	case l.used:
		writeError(w, ct, ErrCodeUsed)
		return
	}
	l.used = true
	out := map[string]any{"openid": l.id.OpenID, "session_key": l.sessionKey}
	if l.id.UnionID != "" {
		out["unionid"] = l.id.UnionID
	}
	writeJSON(w, ct, out)
}

func (s *Sim) stableToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["stable_token"]++
	const ct = "application/json; encoding=utf-8"
	if r.Method != http.MethodPost {
		writeError(w, ct, 43002)
		return
	}
	var in struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, ct, 47001)
		return
	}
	if code := s.takeFailure("stable_token"); code != 0 {
		writeError(w, ct, code)
		return
	}
	if code := s.checkApp(in.AppID, in.Secret); code != 0 {
		writeError(w, ct, code)
		return
	}
	if in.GrantType != "client_credential" {
		writeError(w, ct, ErrGrantType)
		return
	}
	now := s.Now()
	cur := s.tokens[s.current]
	switch {
	case in.ForceRefresh:
		if cur != nil {
			cur.invalidated = true
		}
		s.issueToken(now)
	case cur == nil || cur.invalidated || cur.expires.Sub(now) <= refreshWindow:
		// In its last five minutes the next token is handed out; the old
		// one stays valid until it expires.
		s.issueToken(now)
	}
	writeJSON(w, ct, map[string]any{
		"access_token": s.current,
		"expires_in":   int(s.tokens[s.current].expires.Sub(now).Seconds()),
	})
}

func (s *Sim) issueToken(now time.Time) {
	s.current = "simtoken_" + randomString(24)
	s.tokens[s.current] = &accessToken{expires: now.Add(TokenTTL)}
}

func (s *Sim) getUserPhoneNumber(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["getuserphonenumber"]++
	const ct = "application/json; encoding=utf-8"
	if code := s.takeFailure("getuserphonenumber"); code != 0 {
		writeError(w, ct, code)
		return
	}
	tok := s.tokens[r.URL.Query().Get("access_token")]
	switch {
	case tok == nil || tok.invalidated:
		writeError(w, ct, ErrTokenInvalid)
		return
	case !s.Now().Before(tok.expires):
		writeError(w, ct, ErrTokenExpired)
		return
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, ct, 47001)
		return
	}
	g := s.phones[in.Code]
	if g == nil {
		if number, ok := devPhone(in.Code); ok {
			g = &phoneGrant{countryCode: "86", number: number, issued: s.Now()}
			s.phones[in.Code] = g
		}
	}
	if g == nil || g.used || s.Now().Sub(g.issued) > codeTTL {
		writeError(w, ct, ErrInvalidCode)
		return
	}
	g.used = true
	writeJSON(w, ct, map[string]any{"errcode": 0, "errmsg": "ok", "phone_info": phoneInfo(g.countryCode, g.number, s.AppID, s.Now())})
}

func (s *Sim) checkApp(appID, secret string) int {
	switch {
	case appID != s.AppID:
		return ErrInvalidAppID
	case secret != s.Secret:
		return ErrInvalidSecret
	}
	return 0
}

func phoneInfo(countryCode, number, appID string, now time.Time) map[string]any {
	full := number
	if countryCode != "86" {
		full = "+" + countryCode + number
	}
	return map[string]any{
		"phoneNumber": full, "purePhoneNumber": number, "countryCode": countryCode,
		"watermark": map[string]any{"timestamp": now.Unix(), "appid": appID},
	}
}

var errmsgs = map[int]string{
	ErrBusy: "system error", ErrTokenInvalid: "invalid credential, access_token is invalid or not latest",
	ErrGrantType: "invalid grant_type", ErrInvalidAppID: "invalid appid", ErrInvalidCode: "invalid code",
	ErrInvalidSecret: "invalid appsecret", ErrCodeUsed: "code been used", ErrTokenExpired: "access_token expired",
	ErrRateLimited: "api minute-quota reach limit",
}

func writeError(w http.ResponseWriter, contentType string, code int) {
	msg := errmsgs[code]
	if msg == "" {
		msg = "simulated error"
	}
	writeJSON(w, contentType, map[string]any{"errcode": code, "errmsg": msg + ", rid: sim-" + randomString(6)})
}

func writeJSON(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(v)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomString(n int) string { return hex.EncodeToString(randomBytes(n))[:n] }

// devIdentity reads the developer codes the simulator accepts without
// minting: "dev:<name>" or "dev:<name>:<anything>" logs in as openid
// "dev_<name>" with unionid "devunion_<name>". Each string is single-use,
// like a real code, so a client sends e.g. "dev:alice:" + Date.now().
func devIdentity(code string) (Identity, bool) {
	name, ok := devPart(code)
	if !ok {
		return Identity{}, false
	}
	return Identity{OpenID: "dev_" + name, UnionID: "devunion_" + name}, true
}

// devPhone reads "dev:<11 digits>[:<anything>]" getPhoneNumber codes.
func devPhone(code string) (string, bool) {
	n, ok := devPart(code)
	if !ok || len(n) != 11 || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	return n, true
}

func devPart(code string) (string, bool) {
	rest, ok := strings.CutPrefix(code, "dev:")
	if !ok {
		return "", false
	}
	part, _, _ := strings.Cut(rest, ":")
	if part == "" || len(part) > 32 || strings.Trim(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return "", false
	}
	return part, true
}
