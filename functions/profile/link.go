package main

import (
	"context"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
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

// unbindPhone removes the phone number; LAST_IDENTITY without WeChat.
func (h *handler) unbindPhone(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	if u, err = h.accounts.UnlinkPhone(ctx, u); err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}

// bindWeChat binds the WeChat user of a loginCode, or the wx.cloud caller,
// to the caller's account.
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
	wx := store.WeChat{}
	if loginCode != "" {
		if h.wechat == nil {
			return nil, apierror.Bug(h.wechatMissing)
		}
		login, err := h.wechat.Code2Session(ctx, loginCode)
		if err != nil {
			return nil, err
		}
		wx = login.Identity
	} else {
		wx.OpenID = req.Caller.OpenID
	}
	if u, err = h.accounts.LinkWeChat(ctx, u, wx); err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}

// unbindWeChat removes the WeChat identity; LAST_IDENTITY without a phone.
func (h *handler) unbindWeChat(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	if u, err = h.accounts.UnlinkWeChat(ctx, u); err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}
