// Package wechatsim simulates the WeChat server APIs of a brand's WeChat
// apps, speaking WeChat's protocol: for mini-programs, single-use login and
// phone codes with WeChat's error codes, stable_token semantics (the same
// token while valid, the next one in its last five minutes, a forced
// refresh invalidating the old), getuserphonenumber checking the access
// token, and the legacy encryptedData; for 公众号, website and mobile apps,
// the OAuth exchange (sns/oauth2/access_token, sns/userinfo) with its
// scopes and snapshot-page users. Every app has its own openid for one
// person, and all share the person's unionid. Tests drive it through its
// Go methods; the local gateway serves it, with a few /sim/ endpoints that
// mint codes for developers.
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

// Identity is the WeChat user a login code stands for: their openid in
// the code's app, their unionid, and, for sns/userinfo, their nickname and
// avatar.
type Identity struct {
	OpenID    string
	UnionID   string
	Nickname  string
	AvatarURL string
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
	ErrUnauthorized  = 48001
)

type login struct {
	app        string
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
	app         string
	expires     time.Time
	invalidated bool
}

// The kinds of app, as WECHAT_APPS names them.
const (
	MiniProgram     = "miniprogram"
	OfficialAccount = "officialaccount"
	Website         = "website"
	Mobile          = "mobile"
)

type app struct{ secret, kind string }

// Sim is the simulated WeChat of a brand's apps; AppID is its first
// mini-program, the app of the methods that name none.
type Sim struct {
	AppID, Secret string
	// Now is the simulator's clock; tests move it to expire codes and tokens.
	Now func() time.Time

	mu       sync.Mutex
	apps     map[string]app
	logins   map[string]*login
	phones   map[string]*phoneGrant
	tokens   map[string]*accessToken
	current  map[string]string // each mini-program's current token
	grants   map[string]*oauthGrant
	userTok  map[string]*oauthGrant // by the user access token it gave
	failures map[string][]int
	calls    map[string]int
}

// New returns a simulator whose first mini-program is appID.
func New(appID, secret string) *Sim {
	return &Sim{
		AppID: appID, Secret: secret, Now: time.Now,
		apps:   map[string]app{appID: {secret, MiniProgram}},
		logins: map[string]*login{}, phones: map[string]*phoneGrant{}, tokens: map[string]*accessToken{},
		current: map[string]string{}, grants: map[string]*oauthGrant{}, userTok: map[string]*oauthGrant{},
		failures: map[string][]int{}, calls: map[string]int{},
	}
}

// AddApp adds an app of kind (MiniProgram, OfficialAccount, Website,
// Mobile) to the brand.
func (s *Sim) AddApp(appID, secret, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[appID] = app{secret, kind}
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
	mux.HandleFunc("/sns/oauth2/access_token", s.oauthAccessToken)
	mux.HandleFunc("/sns/userinfo", s.userInfo)
	mux.HandleFunc("/sim/login", s.simLogin)
	mux.HandleFunc("/sim/oauth", s.simOAuth)
	mux.HandleFunc("/sim/phone", s.simPhone)
	mux.HandleFunc("/sim/legacy", s.simLegacy)
	return mux
}

// NewLoginCode mints a wx.login() code of the first mini-program for id,
// valid five minutes, once.
func (s *Sim) NewLoginCode(id Identity) string { return s.NewLoginCodeFor(s.AppID, id) }

// NewLoginCodeFor mints a wx.login() code of the mini-program appID for
// id (its openid in that app).
func (s *Sim) NewLoginCodeFor(appID string, id Identity) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintLogin(appID, randomString(16), id)
}

func (s *Sim) mintLogin(appID, code string, id Identity) string {
	s.logins[code] = &login{app: appID, id: id, sessionKey: base64.StdEncoding.EncodeToString(randomBytes(16)), issued: s.Now()}
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

// InvalidateAccessToken makes the first mini-program's current token
// invalid (40001), as a forced refresh elsewhere would.
func (s *Sim) InvalidateAccessToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[s.current[s.AppID]]; t != nil {
		t.invalidated = true
	}
	delete(s.current, s.AppID)
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
	appID := q.Get("appid")
	if code := s.checkApp(appID, q.Get("secret"), MiniProgram); code != 0 {
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
		if id, ok := s.devIdentity(appID, code); ok {
			l = s.logins[s.mintLogin(appID, code, id)]
		}
	}
	switch {
	case l == nil || l.app != appID || s.Now().Sub(l.issued) > codeTTL:
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
	if code := s.checkApp(in.AppID, in.Secret, ""); code != 0 {
		writeError(w, ct, code)
		return
	}
	if in.GrantType != "client_credential" {
		writeError(w, ct, ErrGrantType)
		return
	}
	now := s.Now()
	cur := s.tokens[s.current[in.AppID]]
	switch {
	case in.ForceRefresh:
		if cur != nil {
			cur.invalidated = true
		}
		s.issueToken(in.AppID, now)
	case cur == nil || cur.invalidated || cur.expires.Sub(now) <= refreshWindow:
		// In its last five minutes the next token is handed out; the old
		// one stays valid until it expires.
		s.issueToken(in.AppID, now)
	}
	tok := s.current[in.AppID]
	writeJSON(w, ct, map[string]any{
		"access_token": tok,
		"expires_in":   int(s.tokens[tok].expires.Sub(now).Seconds()),
	})
}

func (s *Sim) issueToken(appID string, now time.Time) {
	tok := "simtoken_" + randomString(24)
	s.current[appID] = tok
	s.tokens[tok] = &accessToken{app: appID, expires: now.Add(TokenTTL)}
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
	writeJSON(w, ct, map[string]any{"errcode": 0, "errmsg": "ok", "phone_info": phoneInfo(g.countryCode, g.number, tok.app, s.Now())})
}

// checkApp checks an app's credentials, and its kind when kind is set
// (mini-program APIs are a mini-program's; OAuth is the others').
func (s *Sim) checkApp(appID, secret, kind string) int {
	a, ok := s.apps[appID]
	switch {
	case !ok:
		return ErrInvalidAppID
	case secret != a.secret:
		return ErrInvalidSecret
	case kind == MiniProgram && a.kind != MiniProgram, kind == "oauth" && a.kind == MiniProgram:
		return ErrInvalidAppID
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
	ErrRateLimited: "api minute-quota reach limit", ErrUnauthorized: "api unauthorized",
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
// minting: "dev:<name>" or "dev:<name>:<anything>" logs in as the person
// <name>: openid "dev_<name>" in the first mini-program and
// "dev_<name>_<app id>" in the brand's other apps, unionid
// "devunion_<name>" in all. Each string is single-use, like a real code,
// so a client sends e.g. "dev:alice:" + Date.now().
func (s *Sim) devIdentity(appID, code string) (Identity, bool) {
	name, ok := devPart(code)
	if !ok {
		return Identity{}, false
	}
	return s.DevIdentity(appID, name), true
}

// DevIdentity is the person name as app appID sees them (devIdentity).
func (s *Sim) DevIdentity(appID, name string) Identity {
	openid := "dev_" + name
	if appID != s.AppID {
		openid += "_" + appID
	}
	return Identity{OpenID: openid, UnionID: "devunion_" + name, Nickname: name, AvatarURL: "https://thirdwx.qlogo.cn/sim/" + name + "/132"}
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
