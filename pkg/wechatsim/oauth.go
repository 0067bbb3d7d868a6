package wechatsim

import (
	"net/http"
	"strings"
	"time"
)

// The scopes of an OAuth code: a 公众号's 网页授权 is snsapi_base (the
// openid only) or snsapi_userinfo (the profile too, which the person
// agreed to); a website's or a mobile app's WeChat login is snsapi_login.
const (
	ScopeBase     = "snsapi_base"
	ScopeUserInfo = "snsapi_userinfo"
	ScopeLogin    = "snsapi_login"
)

type oauthGrant struct {
	app      string
	id       Identity
	scope    string
	snapshot bool
	issued   time.Time
	used     bool
	token    string
	expires  time.Time
}

// NewOAuthCode mints the OAuth code a 公众号's 网页授权 redirect, or a
// website's or mobile app's WeChat login, hands its page: of app appID, for
// id (its openid in that app), with scope; single-use, five minutes.
func (s *Sim) NewOAuthCode(appID string, id Identity, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintOAuth(appID, "oauth_"+randomString(16), id, scope, false)
}

// NewSnapshotCode mints the code of a 公众号's snapshot page (快照页):
// WeChat's virtual user, answered with is_snapshotuser 1.
func (s *Sim) NewSnapshotCode(appID string, id Identity) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintOAuth(appID, "oauth_"+randomString(16), id, ScopeUserInfo, true)
}

func (s *Sim) mintOAuth(appID, code string, id Identity, scope string, snapshot bool) string {
	s.grants[code] = &oauthGrant{app: appID, id: id, scope: scope, snapshot: snapshot, issued: s.Now()}
	return code
}

// defaultScope is the scope of a developer code: what a login page of
// that kind of app asks for.
func (s *Sim) defaultScope(appID string) string {
	if s.apps[appID].kind == OfficialAccount {
		return ScopeUserInfo
	}
	return ScopeLogin
}

// devOAuth reads the developer OAuth codes: "dev:<name>:<anything>" (the
// app kind's usual scope), "devbase:<name>:<anything>" (snsapi_base) and
// "devsnap:<name>:<anything>" (a snapshot page's virtual user).
func (s *Sim) devOAuth(appID, code string) (*oauthGrant, bool) {
	scope, snapshot := s.defaultScope(appID), false
	rest := code
	switch {
	case strings.HasPrefix(code, "devbase:"):
		scope, rest = ScopeBase, "dev:"+strings.TrimPrefix(code, "devbase:")
	case strings.HasPrefix(code, "devsnap:"):
		snapshot, rest = true, "dev:"+strings.TrimPrefix(code, "devsnap:")
	}
	id, ok := s.devIdentity(appID, rest)
	if !ok {
		return nil, false
	}
	s.mintOAuth(appID, code, id, scope, snapshot)
	return s.grants[code], true
}

func (s *Sim) oauthAccessToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["oauth2/access_token"]++
	const ct = "application/json; encoding=utf-8"
	if code := s.takeFailure("oauth2/access_token"); code != 0 {
		writeError(w, ct, code)
		return
	}
	q := r.URL.Query()
	appID := q.Get("appid")
	if code := s.checkApp(appID, q.Get("secret"), "oauth"); code != 0 {
		writeError(w, ct, code)
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		writeError(w, ct, ErrGrantType)
		return
	}
	code := q.Get("code")
	g := s.grants[code]
	if g == nil {
		g, _ = s.devOAuth(appID, code)
	}
	now := s.Now()
	switch {
	case g == nil || g.app != appID || now.Sub(g.issued) > codeTTL:
		writeError(w, ct, ErrInvalidCode)
		return
	case g.used:
		writeError(w, ct, ErrCodeUsed)
		return
	}
	g.used = true
	g.token, g.expires = "simuser_"+randomString(24), now.Add(TokenTTL)
	s.userTok[g.token] = g
	out := map[string]any{
		"access_token": g.token, "expires_in": int(TokenTTL.Seconds()), "refresh_token": "simrefresh_" + randomString(24),
		"openid": g.id.OpenID, "scope": g.scope,
	}
	// A 公众号's 网页授权 gives the unionid with snsapi_userinfo only;
	// websites and mobile apps give it with their login.
	if g.id.UnionID != "" && g.scope != ScopeBase {
		out["unionid"] = g.id.UnionID
	}
	if g.snapshot {
		out["is_snapshotuser"] = 1
	}
	writeJSON(w, ct, out)
}

func (s *Sim) userInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["userinfo"]++
	const ct = "application/json; encoding=utf-8"
	if code := s.takeFailure("userinfo"); code != 0 {
		writeError(w, ct, code)
		return
	}
	q := r.URL.Query()
	g := s.userTok[q.Get("access_token")]
	switch {
	case g == nil || g.id.OpenID != q.Get("openid"):
		writeError(w, ct, ErrTokenInvalid)
		return
	case !s.Now().Before(g.expires):
		writeError(w, ct, ErrTokenExpired)
		return
	case g.scope == ScopeBase:
		writeError(w, ct, ErrUnauthorized)
		return
	}
	out := map[string]any{"openid": g.id.OpenID, "nickname": g.id.Nickname, "sex": 0, "headimgurl": g.id.AvatarURL, "privilege": []string{}}
	if g.id.UnionID != "" {
		out["unionid"] = g.id.UnionID
	}
	writeJSON(w, ct, out)
}
