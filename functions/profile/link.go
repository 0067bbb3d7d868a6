package main

import (
	"context"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// bindPhone binds a phone number to the caller's account, or replaces its
// number, once the request proved it holds the account (proof.go): the
// SMS code proves the new number, under the same single-use and attempt
// rules as phone-login (the same check). A number held by another
// account is ACCOUNT_CONFLICT, and the code is used up all the same.
func (h *handler) bindPhone(ctx context.Context, req *adapter.Request) (any, error) {
	f := req.Fields
	if err := f.Only("phone", "code", "proof"); err != nil {
		return nil, err
	}
	rawPhone, err := f.RequiredString("phone")
	if err != nil {
		return nil, err
	}
	code, err := f.RequiredString("code")
	if err != nil {
		return nil, err
	}
	number, err := phone.Normalize(rawPhone)
	if err != nil {
		return nil, apierror.BadPhone()
	}
	p, err := readProof(req)
	if err != nil {
		return nil, err
	}
	u, sid, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := h.prove(ctx, req, u, sid, p); err != nil {
		return nil, err
	}
	if err := h.codes.UseToLink(ctx, number, code); err != nil {
		return nil, err
	}
	if u, err = h.accounts.LinkPhone(ctx, u, number); err != nil {
		return nil, err
	}
	// Noted beside the phone's SMS state, as a code login does, so that
	// send-sms can refuse a disabled account's phone.
	if err := h.store.RecordPhoneOwner(ctx, h.keys.Phone(number), u.ID, h.now()); err != nil {
		logging.FromContext(ctx).Warn("phone's account not noted for send-sms", "cause", err.Error())
	}
	return userAnswer(u), nil
}

// unbind answers an unlink of one way to log in from the caller's
// account (UnlinkPhone, UnlinkWeChat), once the request proved it holds
// the account (proof.go): LAST_IDENTITY when it is the only one left.
func (h *handler) unbind(unlink func(context.Context, *store.User) (*store.User, error)) adapter.HandlerFunc {
	return func(ctx context.Context, req *adapter.Request) (any, error) {
		if err := req.Fields.Only("proof"); err != nil {
			return nil, err
		}
		p, err := readProof(req)
		if err != nil {
			return nil, err
		}
		u, sid, err := h.caller(ctx, req)
		if err != nil {
			return nil, err
		}
		if err := h.prove(ctx, req, u, sid, p); err != nil {
			return nil, err
		}
		if u, err = unlink(ctx, u); err != nil {
			return nil, err
		}
		return userAnswer(u), nil
	}
}

// bindWeChat binds the wx.cloud caller, or else the WeChat user of a
// loginCode (a mini-program's) or oauthCode (another app's) of appId, to
// the caller's account, once the request proved it holds the account
// (proof.go): the WeChat being bound proves nothing of it.
func (h *handler) bindWeChat(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only("loginCode", "oauthCode", "appId", "proof"); err != nil {
		return nil, err
	}
	codes, err := wechat.ReadCodes(req.Fields, "loginCode")
	if err != nil {
		return nil, err
	}
	if codes.LoginCode == "" && codes.OAuthCode == "" && req.Caller == nil {
		return nil, apierror.BadField("loginCode", "is required (oauthCode for 公众号, website and mobile apps)")
	}
	p, err := readProof(req)
	if err != nil {
		return nil, err
	}
	u, sid, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := h.prove(ctx, req, u, sid, p); err != nil {
		return nil, err
	}
	wx, err := h.wechat.Identity(ctx, req.Caller, codes)
	if err != nil {
		return nil, err
	}
	if u, err = h.accounts.LinkWeChat(ctx, u, wx.WeChatUser); err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}
