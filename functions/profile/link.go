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
// number: the SMS code proves the number, under the same single-use and
// attempt rules as phone-login (the same check). A number held by another
// account is ACCOUNT_CONFLICT, and the code is used up all the same.
func (h *handler) bindPhone(ctx context.Context, req *adapter.Request) (any, error) {
	f := req.Fields
	if err := f.Only("phone", "code"); err != nil {
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
	u, err := h.caller(ctx, req)
	if err != nil {
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
// account (UnlinkPhone, UnlinkWeChat): LAST_IDENTITY when it is the only
// one left.
func (h *handler) unbind(unlink func(context.Context, *store.User) (*store.User, error)) adapter.HandlerFunc {
	return func(ctx context.Context, req *adapter.Request) (any, error) {
		if err := req.Fields.Only(); err != nil {
			return nil, err
		}
		u, err := h.caller(ctx, req)
		if err != nil {
			return nil, err
		}
		if u, err = unlink(ctx, u); err != nil {
			return nil, err
		}
		return userAnswer(u), nil
	}
}

// bindWeChat binds the wx.cloud caller, or else the WeChat user of a
// loginCode, to the caller's account.
func (h *handler) bindWeChat(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only("loginCode"); err != nil {
		return nil, err
	}
	loginCode, _, err := req.Fields.String("loginCode")
	if err != nil {
		return nil, err
	}
	if loginCode == "" && req.Caller == nil {
		return nil, apierror.BadField("loginCode", "is required")
	}
	u, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	wx, err := wechat.Identity(ctx, h.wechat, h.wechatMissing, req.Caller, loginCode)
	if err != nil {
		return nil, err
	}
	if u, err = h.accounts.LinkWeChat(ctx, u, *wx); err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}
