package wechat

import (
	"context"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Identity is the WeChat user a request speaks for: the wx.cloud caller
// the platform vouches for (callerOpenID; empty when there is none), else
// the user of loginCode, exchanged with WeChat; nil when neither is given.
// c is nil when WeChat is not configured, for the reason missing: a
// loginCode is then a misconfiguration.
func Identity(ctx context.Context, c *Client, missing error, callerOpenID, loginCode string) (*store.WeChat, error) {
	switch {
	case callerOpenID != "":
		return &store.WeChat{OpenID: callerOpenID}, nil
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
