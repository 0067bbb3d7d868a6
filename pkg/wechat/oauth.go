package wechat

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// OAuth exchanges the code of a 公众号's 网页授权, a website's or a mobile
// app's WeChat login (sns/oauth2/access_token) for the user, and, when the
// scope allows it (snsapi_userinfo, snsapi_login), asks sns/userinfo for
// the nickname and avatar a sign-up takes. A user of a 公众号's snapshot
// page (is_snapshotuser) is a virtual account WeChat made up: refused as
// WECHAT_CODE_INVALID with data.reason "snapshotuser". The user's access
// token is used within this call only: never stored, answered or logged.
func (c *Client) OAuth(ctx context.Context, code string) (*User, error) {
	var tok struct {
		errorFields
		AccessToken  string `json:"access_token"`
		OpenID       string `json:"openid"`
		UnionID      string `json:"unionid"`
		Scope        string `json:"scope"`
		SnapshotUser int    `json:"is_snapshotuser"`
	}
	q := url.Values{"appid": {c.appID}, "secret": {c.secret}, "code": {code}, "grant_type": {"authorization_code"}}
	if err := c.call(ctx, "oauth2/access_token", http.MethodGet, "/sns/oauth2/access_token", q, nil, &tok); err != nil {
		return nil, err
	}
	switch {
	case tok.SnapshotUser == 1:
		return nil, apierror.WeChatSnapshotUser(errors.New("wechat oauth2/access_token: a snapshot page's virtual user"))
	case tok.OpenID == "" || tok.AccessToken == "":
		return nil, apierror.WeChatDown(errors.New("wechat oauth2/access_token: answer without openid or access_token"))
	}
	u := &User{WeChatUser: store.WeChatUser{AppID: c.appID, OpenID: tok.OpenID, UnionID: tok.UnionID}}
	if !strings.Contains(tok.Scope, "snsapi_userinfo") && !strings.Contains(tok.Scope, "snsapi_login") {
		return u, nil
	}
	var info struct {
		errorFields
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
		Nickname   string `json:"nickname"`
		HeadImgURL string `json:"headimgurl"`
	}
	q = url.Values{"access_token": {tok.AccessToken}, "openid": {tok.OpenID}, "lang": {"zh_CN"}}
	if err := c.call(ctx, "userinfo", http.MethodGet, "/sns/userinfo", q, nil, &info); err != nil {
		return nil, err
	}
	if info.OpenID != "" && info.OpenID != tok.OpenID {
		return nil, apierror.WeChatDown(errors.New("wechat userinfo: answered another user"))
	}
	if u.UnionID == "" {
		u.UnionID = info.UnionID
	}
	u.Nickname, u.AvatarURL = info.Nickname, httpsAvatar(info.HeadImgURL)
	return u, nil
}

// httpsAvatar is WeChat's avatar URL if it is one the profile accepts
// (https), else "": WeChat has served http:// avatars.
func httpsAvatar(raw string) string {
	if strings.HasPrefix(raw, "http://thirdwx.qlogo.cn/") || strings.HasPrefix(raw, "http://wx.qlogo.cn/") {
		raw = "https://" + strings.TrimPrefix(raw, "http://")
	}
	if !strings.HasPrefix(raw, "https://") || len(raw) > 512 {
		return ""
	}
	return raw
}
