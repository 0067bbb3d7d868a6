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
	wechat   *wechat.Client
	accounts *account.Resolver
	sessions *session.Service
}

func newHandler(d *app.Deps) (app.Handler, error) {
	wx, err := wechat.FromConfig(d.Config, d.Store, d.Now)
	if err != nil {
		return app.Handler{}, err
	}
	h := &handler{wechat: wx, accounts: d.Accounts, sessions: d.Sessions}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/wx-login", Action: "login", Handle: h.login}},
		DefaultAction: "login",
	}, nil
}

// login exchanges the code (one WeChat call; none for a wx.cloud caller,
// whom the platform identifies), finds or creates the account by openid or
// unionid, and starts a session in it: two round trips for a returning
// user. session_key is dropped here: nothing in this product needs it
// later, and what is not kept cannot leak.
func (h *handler) login(ctx context.Context, req *adapter.Request) (any, error) {
	f := req.Fields
	if err := f.Only("code", "nickname", "avatarUrl"); err != nil {
		return nil, err
	}
	code, _, err := f.String("code")
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

	if code == "" && req.Caller == nil {
		return nil, apierror.BadField("code", "is required")
	}
	wx, err := wechat.Identity(ctx, h.wechat, nil, req.Caller, code)
	if err != nil {
		return nil, err
	}
	ns := h.sessions.Begin(session.MethodWeChat)
	u, isNew, err := h.accounts.ByWeChat(ctx, *wx, nickname, avatarURL, ns)
	if err != nil {
		return nil, err
	}
	return h.sessions.Answer(u, ns, isNew)
}
