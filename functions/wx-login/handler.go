package main

import (
	"context"
	"net/http"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// handler logs in by WeChat identity.
type handler struct {
	wechat   *wechat.Apps
	accounts *account.Resolver
	sessions *session.Service
}

func newHandler(d *app.Deps) (app.Handler, error) {
	wx := wechat.FromConfig(d.Config, d.Store, d.Now)
	if err := wx.Err(); err != nil {
		return app.Handler{}, err
	}
	h := &handler{wechat: wx, accounts: d.Accounts, sessions: d.Sessions}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/wx-login", Action: "login", Handle: h.login}},
		DefaultAction: "login",
	}, nil
}

// login exchanges the code of the app appId names (one WeChat call; none
// for a wx.cloud caller, whom the platform identifies): a mini-program's
// wx.login() code, or the oauthCode of a 公众号's 网页授权, a website's or a
// mobile app's WeChat login. It finds or creates the account by unionid or
// the app's openid, and starts a session in it: two round trips for a
// returning user. session_key is dropped here: nothing in this product
// needs it later, and what is not kept cannot leak.
func (h *handler) login(ctx context.Context, req *adapter.Request) (any, error) {
	f := req.Fields
	if err := f.Only("code", "oauthCode", "appId", "nickname", "avatarUrl"); err != nil {
		return nil, err
	}
	codes, err := wechat.ReadCodes(f, "code")
	if err != nil {
		return nil, err
	}
	nickname, hasNickname, err := f.String("nickname")
	if err != nil {
		return nil, err
	}
	if hasNickname {
		if nickname, err = account.ValidNickname(nickname); err != nil {
			return nil, err
		}
	}
	avatarURL, hasAvatar, err := f.String("avatarUrl")
	if err != nil {
		return nil, err
	}
	if hasAvatar {
		if err := account.ValidAvatarURL(avatarURL); err != nil {
			return nil, err
		}
	}

	if codes.LoginCode == "" && codes.OAuthCode == "" && req.Caller == nil {
		return nil, apierror.BadField("code", "is required (oauthCode for 公众号, website and mobile apps)")
	}
	wx, err := h.wechat.Identity(ctx, req.Caller, codes)
	if err != nil {
		return nil, err
	}
	// WeChat's nickname and avatar (snsapi_userinfo) stand in for those the
	// request did not send.
	if nickname == "" && wx.Nickname != "" {
		nickname, _ = account.ValidNickname(wx.Nickname)
	}
	if avatarURL == "" && account.ValidAvatarURL(wx.AvatarURL) == nil {
		avatarURL = wx.AvatarURL
	}
	ns := h.sessions.Begin(ctx, session.MethodWeChat)
	u, isNew, err := h.accounts.ByWeChat(ctx, wx.WeChatUser, nickname, avatarURL, ns)
	if err != nil {
		return nil, err
	}
	return h.sessions.Answer(u, ns, isNew)
}
