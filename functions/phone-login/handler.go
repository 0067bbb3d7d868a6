package main

import (
	"context"
	"net/http"
	"time"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// handler logs in by phone and SMS code.
type handler struct {
	codes    codeChecker
	accounts *account.Resolver
	sessions *session.Service
	// wechat exchanges the optional loginCode; nil when WeChat is not
	// configured.
	wechat *wechat.Client
}

func newHandler(d *app.Deps) (app.Handler, error) {
	h := &handler{
		codes: codeChecker{
			store: d.Store, hasher: otp.NewHasher(d.CodeKey), maxAttempts: d.Config.SMSMaxAttempts, now: d.Now,
		},
		accounts: d.Accounts,
		sessions: d.Sessions,
	}
	// WeChat is optional here: without it, only a loginCode is refused.
	if wx, err := wechat.FromConfig(d.Config, d.Store, d.Now); err == nil {
		h.wechat = wx
	}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/phone-login", Action: "login", Handle: h.login}},
		DefaultAction: "login",
	}, nil
}

// login checks the input, exchanges the optional loginCode (so that a
// WeChat failure spends nothing), then uses up the SMS code, finds or
// creates the account and starts a session.
func (h *handler) login(ctx context.Context, req *adapter.Request) (any, error) {
	f := req.Fields
	if err := f.Only("phone", "code", "loginCode"); err != nil {
		return nil, err
	}
	rawPhone, hasPhone, err := f.String("phone")
	if err != nil {
		return nil, err
	}
	code, hasCode, err := f.String("code")
	if err != nil {
		return nil, err
	}
	loginCode, _, err := f.String("loginCode")
	if err != nil {
		return nil, err
	}
	switch {
	case !hasPhone:
		return nil, apierror.BadField("phone", "is required")
	case !hasCode:
		return nil, apierror.BadField("code", "is required")
	}
	number, err := phone.Normalize(rawPhone)
	if err != nil {
		return nil, apierror.BadPhone()
	}
	if !otp.WellFormed(code) {
		// It cannot be right, so it is not counted as a try.
		return nil, apierror.WrongCode(-1)
	}

	wx, err := h.weChatIdentity(ctx, req, loginCode)
	if err != nil {
		return nil, err
	}
	if err := h.codes.use(ctx, number, code); err != nil {
		return nil, err
	}
	u, isNew, err := h.accounts.ByPhone(ctx, number, wx)
	if err != nil {
		return nil, err
	}
	return h.sessions.Issue(ctx, u, session.MethodSMS, isNew)
}

// weChatIdentity is the WeChat identity to bind, if any: the loginCode's,
// or that of a wx.cloud caller.
func (h *handler) weChatIdentity(ctx context.Context, req *adapter.Request, loginCode string) (*store.WeChat, error) {
	switch {
	case loginCode != "":
		if h.wechat == nil {
			return nil, apierror.Bug(&config.Error{Var: "WECHAT_APPID", Reason: "and WECHAT_SECRET are needed to bind a loginCode"})
		}
		login, err := h.wechat.Code2Session(ctx, loginCode)
		if err != nil {
			return nil, err
		}
		return &login.Identity, nil
	case req.Caller != nil:
		return &store.WeChat{OpenID: req.Caller.OpenID}, nil
	}
	return nil, nil
}

// codeChecker uses up SMS codes.
type codeChecker struct {
	store       *store.Store
	hasher      *otp.Hasher
	maxAttempts int
	now         func() time.Time
}
