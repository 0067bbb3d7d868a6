package main

import (
	"context"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// handler logs in by phone and SMS code.
type handler struct {
	store    *store.Store
	keys     smscode.Keys
	now      func() time.Time
	codes    *smscode.Checker
	accounts *account.Resolver
	sessions *session.Service
	// wechat exchanges the optional loginCode (or oauthCode); WeChat is
	// optional here: without it, only those are refused.
	wechat *wechat.Apps
}

func newHandler(d *app.Deps) (app.Handler, error) {
	h := &handler{store: d.Store, keys: d.SMSKeys, now: d.Now, codes: d.Codes, accounts: d.Accounts, sessions: d.Sessions,
		wechat: wechat.FromConfig(d.Config, d.Store, d.Now)}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/phone-login", Action: "login", Handle: h.login}},
		DefaultAction: "login",
	}, nil
}

// login checks the input, exchanges the optional loginCode (so that a
// WeChat failure spends nothing), reads who holds the phone, uses up the
// SMS code, and logs into (or creates) the account with a new session:
// three round trips for a returning user.
func (h *handler) login(ctx context.Context, req *adapter.Request) (any, error) {
	f := req.Fields
	if err := f.Only("phone", "code", "loginCode", "oauthCode", "appId"); err != nil {
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
	codes, err := wechat.ReadCodes(f, "loginCode")
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

	var wx *store.WeChatUser
	if user, err := h.wechat.Identity(ctx, req.Caller, codes); err != nil {
		return nil, err
	} else if user != nil {
		wx = &user.WeChatUser
	}
	claim, err := h.accounts.PhoneClaim(ctx, number)
	if err != nil {
		return nil, err
	}
	// The account about to log in, recorded with the phone's SMS state so
	// that send-sms can refuse a disabled account's phone: the holder's,
	// or the id a new account will have.
	owner := bson.NewObjectID()
	if claim != nil {
		owner = claim.UserID
	}
	if err := h.codes.Use(ctx, number, code, &owner); err != nil {
		return nil, err
	}
	ns := h.sessions.Begin(ctx, session.MethodSMS)
	u, isNew, err := h.accounts.ByPhone(ctx, number, wx, claim, owner, ns)
	if err != nil {
		return nil, err
	}
	if u.ID != owner {
		// The login ended in another account than the one recorded (a
		// WeChat user's account took the phone, or a creation was retried):
		// the phone's SMS state names the account that holds the phone.
		if err := h.store.RecordPhoneOwner(ctx, h.keys.Phone(number), u.ID, h.now()); err != nil {
			logging.FromContext(ctx).Warn("phone's account not noted for send-sms", "cause", err.Error())
		}
	}
	return h.sessions.Answer(u, ns, isNew)
}
