package wechat

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Login is what jscode2session tells about a wx.login() code. SessionKey
// is for decrypting data of this login only; it is never stored, answered
// or logged.
type Login struct {
	Identity   store.WeChatUser
	SessionKey string
}

// Code2Session exchanges a wx.login() code.
func (c *Client) Code2Session(ctx context.Context, code string) (*Login, error) {
	var out struct {
		errorFields
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
		SessionKey string `json:"session_key"`
	}
	q := url.Values{"appid": {c.appID}, "secret": {c.secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	if err := c.call(ctx, "jscode2session", http.MethodGet, "/sns/jscode2session", q, nil, &out); err != nil {
		return nil, err
	}
	if out.OpenID == "" || out.SessionKey == "" {
		return nil, apierror.WeChatDown(errors.New("wechat jscode2session: answer without openid or session_key"))
	}
	return &Login{Identity: store.WeChatUser{AppID: c.appID, OpenID: out.OpenID, UnionID: out.UnionID}, SessionKey: out.SessionKey}, nil
}
