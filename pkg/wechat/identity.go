package wechat

import (
	"context"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Caller is the WeChat user a wx.cloud caller is, as the platform vouches
// for them; nil when the request has no trusted caller.
func Caller(req *adapter.Request) *store.WeChatUser {
	if req.Caller == nil {
		return nil
	}
	return &store.WeChatUser{AppID: req.Caller.AppID, OpenID: req.Caller.OpenID}
}

// Identity is the WeChat user a request speaks for: the wx.cloud caller
// the platform vouches for (nil when there is none), else the user of
// loginCode, exchanged with WeChat; nil when neither is given. c is nil
// when WeChat is not configured, for the reason missing: a loginCode is
// then a misconfiguration.
func Identity(ctx context.Context, c *Client, missing error, caller *store.WeChatUser, loginCode string) (*store.WeChatUser, error) {
	switch {
	case caller != nil:
		return caller, nil
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
