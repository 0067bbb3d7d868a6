package wechat

import (
	"context"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

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

// Identity is the WeChat user a request speaks for: the wx.cloud caller
// the platform vouches for (nil when there is none), else the user of
// loginCode, exchanged with WeChat; nil when neither is given. c is nil
// when WeChat is not configured, for the reason missing: a loginCode is
// then a misconfiguration.
func Identity(ctx context.Context, c *Client, missing error, caller *adapter.Caller, loginCode string) (*store.WeChatUser, error) {
	switch {
	case caller != nil:
		return CallerIdentity(caller), nil
	case loginCode == "":
		return nil, nil
	case c == nil:
		return nil, apierror.Bug(missing)
	}
	login, err := c.Code2Session(ctx, loginCode)
	if err != nil {
		return nil, err
	}
	return &login.Identity, nil
}
