package main

import (
	"context"
	"net/http"
	"time"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/logging"
	mainland "github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// handler logs in by a phone number WeChat vouches for.
type handler struct {
	wechat   *wechat.Apps
	accounts *account.Resolver
	sessions *session.Service
	store    *store.Store
	keys     smscode.Keys
	now      func() time.Time
}

func newHandler(d *app.Deps) (app.Handler, error) {
	wx := wechat.FromConfig(d.Config, d.Store, d.Now)
	if err := wx.Err(); err != nil {
		return app.Handler{}, err
	}
	h := &handler{wechat: wx, accounts: d.Accounts, sessions: d.Sessions, store: d.Store, keys: d.SMSKeys, now: d.Now}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/phone-number-login", Action: "login", Handle: h.login}},
		DefaultAction: "login",
	}, nil
}

// input is a phone-number login: phoneCode (getPhoneNumber's e.detail.code)
// or the legacy encryptedData and iv, and loginCode (wx.login()), of the
// mini-program appId ("" for the first).
type input struct {
	phoneCode, loginCode, encryptedData, iv, appID string
}

func readInput(f adapter.Fields) (input, error) {
	var in input
	if err := f.Only("phoneCode", "loginCode", "encryptedData", "iv", "appId"); err != nil {
		return in, err
	}
	for _, field := range []struct {
		name string
		dst  *string
	}{{"phoneCode", &in.phoneCode}, {"loginCode", &in.loginCode}, {"encryptedData", &in.encryptedData}, {"iv", &in.iv}, {"appId", &in.appID}} {
		v, _, err := f.String(field.name)
		if err != nil {
			return in, err
		}
		*field.dst = v
	}
	legacy := in.encryptedData != "" || in.iv != ""
	switch {
	case in.phoneCode != "" && legacy:
		return in, apierror.BadField("encryptedData", "must not be sent with phoneCode")
	case in.phoneCode == "" && !legacy:
		return in, apierror.BadField("phoneCode", "is required (or the legacy encryptedData and iv)")
	case legacy && in.encryptedData == "":
		return in, apierror.BadField("encryptedData", "is required with iv")
	case legacy && in.iv == "":
		return in, apierror.BadField("iv", "is required with encryptedData")
	}
	return in, nil
}

// login learns the phone number and the WeChat identity (two WeChat calls,
// made at once; one for a wx.cloud caller), then resolves the account.
func (h *handler) login(ctx context.Context, req *adapter.Request) (any, error) {
	in, err := readInput(req.Fields)
	if err != nil {
		return nil, err
	}
	legacy := in.phoneCode == ""
	if in.loginCode == "" && (req.Caller == nil || legacy) {
		// The legacy data is encrypted with this login's session key.
		return nil, apierror.BadField("loginCode", "is required")
	}

	// The mini-program whose access token asks for the number: the
	// wx.cloud caller's, else the one appId names.
	if req.Caller != nil {
		if in.appID != "" && in.appID != req.Caller.AppID {
			return nil, apierror.BadField("appId", "is not the app of the wx.cloud caller")
		}
		in.appID = req.Caller.AppID
	}
	mini, err := h.wechat.MiniProgram(in.appID)
	if err != nil {
		return nil, err
	}
	var (
		wx    store.WeChatUser
		phone *wechat.Phone
	)
	if legacy {
		login, err := mini.Code2Session(ctx, in.loginCode)
		if err != nil {
			return nil, err
		}
		if phone, err = wechat.DecryptPhone(login.SessionKey, in.encryptedData, in.iv, mini.AppID()); err != nil {
			return nil, err
		}
		wx = login.Identity
	} else {
		if wx, phone, err = identities(ctx, mini, req, in); err != nil {
			return nil, err
		}
	}
	ns := h.sessions.Begin(ctx, session.MethodPhoneNumber)
	u, outcome, err := h.accounts.ByPhoneAndWeChat(ctx, phone.CountryCode, phone.Number, wx, ns)
	if err != nil {
		return nil, err
	}
	if outcome == account.Created || outcome == account.PhoneLinked {
		h.recordOwner(ctx, phone, u)
	}
	return h.sessions.Answer(u, ns, outcome == account.Created)
}

// recordOwner notes the account beside the phone's SMS state, as a code
// login does, so that send-sms can refuse a disabled account's phone.
func (h *handler) recordOwner(ctx context.Context, p *wechat.Phone, u *store.User) {
	if p.CountryCode != mainland.CountryCode {
		return // SMS login serves mainland numbers only
	}
	if err := h.store.RecordPhoneOwner(ctx, h.keys.Phone(p.Number), u.ID, h.now()); err != nil {
		logging.FromContext(ctx).Warn("phone's account not noted for send-sms", "cause", err.Error())
	}
}

// identities exchanges the phone code and, unless the platform identified
// the caller, the login code, concurrently, with the mini-program's WeChat.
func identities(ctx context.Context, mini *wechat.Client, req *adapter.Request, in input) (store.WeChatUser, *wechat.Phone, error) {
	type result struct {
		login *wechat.Login
		err   error
	}
	var logins chan result
	if req.Caller == nil {
		logins = make(chan result, 1)
		go func() {
			login, err := mini.Code2Session(ctx, in.loginCode)
			logins <- result{login, err}
		}()
	}
	phone, phoneErr := mini.PhoneNumber(ctx, in.phoneCode)
	var wx store.WeChatUser
	if logins != nil {
		r := <-logins
		if r.err != nil {
			return wx, nil, r.err
		}
		wx = r.login.Identity
	} else {
		wx = *wechat.CallerIdentity(req.Caller)
	}
	if phoneErr != nil {
		return wx, nil, phoneErr
	}
	return wx, phone, nil
}
