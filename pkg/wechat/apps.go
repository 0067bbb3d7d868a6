package wechat

import (
	"context"
	"time"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Apps are the WeChat apps of a deployment (WECHAT_APPS), each with its
// client. Build them once per instance.
type Apps struct {
	byID  map[string]*Client
	first string // the first mini-program: the app of a request naming none
	// missing, when set, is why WeChat is not configured: using it is a
	// misconfiguration.
	missing error
}

// FromConfig returns the apps WECHAT_APPID, WECHAT_SECRET, WECHAT_APPS and
// WECHAT_API_BASE describe, with access tokens cached in cache. When they
// describe none, the apps answer Err, and a request that needs WeChat
// INTERNAL naming the variable.
func FromConfig(c *config.Config, cache TokenCache, now func() time.Time) *Apps {
	a := &Apps{byID: map[string]*Client{}, missing: c.RequireWeChat()}
	httpClient := newHTTPClient()
	for _, app := range c.WeChatApps {
		cl := New(c.WeChatAPIBase, app.ID, app.Secret, cache, httpClient, now)
		cl.kind, cl.configVar = app.Kind, app.Var
		a.byID[app.ID] = cl
		if a.first == "" && app.IsMiniProgram() {
			a.first = app.ID
		}
	}
	return a
}

// Err is why WeChat is not configured, or nil.
func (a *Apps) Err() error { return a.missing }

// App is the client of the app with id, the first mini-program for "".
// An id the deployment does not list is INVALID_REQUEST naming appId.
func (a *Apps) App(id string) (*Client, error) {
	if a.missing != nil {
		return nil, apierror.Bug(a.missing)
	}
	if id == "" && a.first == "" {
		return nil, apierror.BadField("appId", "is required: this deployment has no mini-program to default to")
	}
	if id == "" {
		id = a.first
	}
	c := a.byID[id]
	if c == nil {
		return nil, apierror.BadField("appId", "is not one of this deployment's WeChat apps")
	}
	return c, nil
}

// MiniProgram is App for what only a mini-program has (getPhoneNumber,
// wx.login() codes).
func (a *Apps) MiniProgram(id string) (*Client, error) {
	c, err := a.App(id)
	if err == nil && c.kind != config.KindMiniProgram {
		return nil, apierror.BadField("appId", "is not a mini-program")
	}
	return c, err
}

// Codes are what a request sends to say which WeChat user it is: a
// wx.login() code of a mini-program (LoginCode, sent as the member
// LoginField), or an OAuth code (网页授权, 开放平台) of an app of another
// kind, of the app AppID ("" for the first mini-program).
type Codes struct {
	AppID      string
	LoginCode  string
	LoginField string
	OAuthCode  string
}

func (c Codes) empty() bool { return c.LoginCode == "" && c.OAuthCode == "" }

// ReadCodes reads the members of a WeChat login: loginField (a
// mini-program's wx.login() code), oauthCode and appId; sending both codes
// is INVALID_REQUEST.
func ReadCodes(f adapter.Fields, loginField string) (Codes, error) {
	c := Codes{LoginField: loginField}
	for _, m := range []struct {
		name string
		dst  *string
	}{{loginField, &c.LoginCode}, {"oauthCode", &c.OAuthCode}, {"appId", &c.AppID}} {
		v, given, err := f.String(m.name)
		if err != nil {
			return c, err
		}
		if given && v == "" && m.name == "appId" {
			return c, apierror.BadField("appId", "must not be empty: name a configured app, or leave it out for the first mini-program")
		}
		*m.dst = v
	}
	if c.LoginCode != "" && c.OAuthCode != "" {
		return c, apierror.BadField("oauthCode", "must not come with "+loginField+": one WeChat login at a time")
	}
	return c, nil
}

// User is a WeChat user a request spoke for, and what WeChat told of them
// for a sign-up: the nickname and avatar of an OAuth login with the
// snsapi_userinfo scope.
type User struct {
	store.WeChatUser
	Nickname, AvatarURL string
}

// Identity is the WeChat user a request speaks for: the wx.cloud caller
// the platform vouches for, else the user of the code, exchanged with the
// WeChat of its app; nil when neither is given.
func (a *Apps) Identity(ctx context.Context, caller *adapter.Caller, codes Codes) (*User, error) {
	if caller != nil {
		if codes.AppID != "" && codes.AppID != caller.AppID {
			return nil, apierror.BadField("appId", "is not the app of the wx.cloud caller")
		}
		return &User{WeChatUser: *CallerIdentity(caller)}, nil
	}
	if codes.empty() {
		return nil, nil
	}
	c, err := a.App(codes.AppID)
	if err != nil {
		return nil, err
	}
	switch {
	case c.kind == config.KindMiniProgram && codes.OAuthCode != "":
		return nil, apierror.BadField("oauthCode", "is for 公众号, website and mobile apps; a mini-program sends its wx.login() code")
	case c.kind == config.KindMiniProgram:
		login, err := c.Code2Session(ctx, codes.LoginCode)
		if err != nil {
			return nil, err
		}
		return &User{WeChatUser: login.Identity}, nil
	case codes.LoginCode != "":
		return nil, apierror.BadField(codes.LoginField, "is a mini-program's wx.login() code; this app sends oauthCode")
	}
	return c.OAuth(ctx, codes.OAuthCode)
}

// CallerIdentity is the WeChat user of a wx.cloud caller the platform
// vouches for: its app and openid and, when the app is bound to an
// open-platform account, its WX_UNIONID, which resolves the account as a
// unionid from jscode2session does. nil when there is no caller.
func CallerIdentity(caller *adapter.Caller) *store.WeChatUser {
	if caller == nil {
		return nil
	}
	return &store.WeChatUser{AppID: caller.AppID, OpenID: caller.OpenID, UnionID: caller.UnionID}
}
