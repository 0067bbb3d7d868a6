package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Resolver finds or creates the account behind a login. Every path is safe
// under concurrency: identities are unique in the store, so two first logins
// of one person race to insert and the loser resolves again, finding the
// winner's account.
type Resolver struct {
	store *store.Store
	now   func() time.Time
}

// NewResolver returns a resolver over s reading time from now.
func NewResolver(s *store.Store, now func() time.Time) *Resolver {
	return &Resolver{store: s, now: now}
}

// resolveAttempts bounds the re-resolutions after lost races; three cover
// every interleaving of one person's concurrent first logins.
const resolveAttempts = 3

var errRaceLost = errors.New("account: identities kept changing during resolution")

// ByPhone logs in by a verified mainland phone number, creating the account
// on first login. With wx, the WeChat identity is bound when neither side
// is bound elsewhere; otherwise the login still succeeds, unbound.
func (r *Resolver) ByPhone(ctx context.Context, number string, wx *store.WeChat) (*store.User, bool, error) {
	u, created, err := r.store.UserForPhone(ctx, phone.CountryCode, number, store.NewUser(r.now()))
	if err != nil {
		return nil, false, err
	}
	if wx == nil || u.HasWeChat() || u.IsDisabled() {
		return u, created, nil
	}
	bound, err := r.store.BindWeChat(ctx, u.ID, *wx, r.now())
	switch {
	case err == nil:
		return bound, created, nil
	case errors.Is(err, store.ErrDuplicate), errors.Is(err, store.ErrConflict):
		logging.FromContext(ctx).Info("WeChat identity not bound: already bound elsewhere", "userId", u.ID.Hex())
		return u, created, nil
	}
	return nil, false, err
}

// ByWeChat logs in by a WeChat identity, creating the account on first
// login with the optional nickname and avatar, which otherwise only fill
// fields still empty.
func (r *Resolver) ByWeChat(ctx context.Context, wx store.WeChat, nickname, avatarURL string) (*store.User, bool, error) {
	for attempt := 0; attempt < resolveAttempts; attempt++ {
		users, err := r.store.UsersWithIdentity(ctx, "", "", &wx)
		if err != nil {
			return nil, false, err
		}
		if u := holderOf(users, wx); u != nil {
			if u.IsDisabled() {
				return u, false, nil
			}
			if u, err = r.completeUnionID(ctx, u, wx); err != nil {
				return nil, false, err
			}
			u, err = r.store.SetNameAndAvatarIfEmpty(ctx, u, nickname, avatarURL, r.now())
			return u, false, err
		}
		u := store.NewUser(r.now())
		u.WeChat, u.Nickname, u.AvatarURL = &wx, nickname, avatarURL
		switch err := r.store.InsertUser(ctx, u); {
		case err == nil:
			return u, true, nil
		case !errors.Is(err, store.ErrDuplicate):
			return nil, false, err
		}
	}
	return nil, false, apierror.Bug(errRaceLost)
}

// ByPhoneAndWeChat logs in by a phone number WeChat vouched for and the
// caller's WeChat identity (API.md §4): the same account or none logs in or
// creates one with both; when only one side has an account and the other
// identity is free, it is bound; anything else is ACCOUNT_CONFLICT and
// nothing changes.
func (r *Resolver) ByPhoneAndWeChat(ctx context.Context, countryCode, number string, wx store.WeChat) (*store.User, bool, error) {
	for attempt := 0; attempt < resolveAttempts; attempt++ {
		users, err := r.store.UsersWithIdentity(ctx, countryCode, number, &wx)
		if err != nil {
			return nil, false, err
		}
		byPhone, byWeChat := holderOfPhone(users, countryCode, number), holderOf(users, wx)
		var u *store.User
		switch {
		case byPhone == nil && byWeChat == nil:
			u = store.NewUser(r.now())
			u.CountryCode, u.Phone, u.WeChat = countryCode, number, &wx
			err = r.store.InsertUser(ctx, u)
			if err == nil {
				return u, true, nil
			}
		case byPhone != nil && byWeChat != nil && byPhone.ID == byWeChat.ID:
			if byPhone.IsDisabled() {
				return byPhone, false, nil
			}
			u, err = r.completeUnionID(ctx, byPhone, wx)
		case byPhone != nil && byWeChat != nil:
			return nil, false, apierror.Conflict("phone")
		case byPhone != nil:
			if byPhone.HasWeChat() {
				return nil, false, apierror.Conflict("phone")
			}
			if byPhone.IsDisabled() {
				return byPhone, false, nil
			}
			u, err = r.store.BindWeChat(ctx, byPhone.ID, wx, r.now())
		default:
			if byWeChat.HasPhone() {
				return nil, false, apierror.Conflict("wechat")
			}
			if byWeChat.IsDisabled() {
				return byWeChat, false, nil
			}
			u, err = r.store.BindPhone(ctx, byWeChat.ID, countryCode, number, r.now())
		}
		switch {
		case err == nil:
			return u, false, nil
		case !errors.Is(err, store.ErrDuplicate) && !errors.Is(err, store.ErrConflict):
			return nil, false, err
		}
		// Someone changed these identities meanwhile: look again.
	}
	return nil, false, apierror.Bug(errRaceLost)
}

// completeUnionID records a unionid WeChat now reports for an account that
// has none yet. Failing to record it does not fail the login.
func (r *Resolver) completeUnionID(ctx context.Context, u *store.User, wx store.WeChat) (*store.User, error) {
	if wx.UnionID == "" || u.WeChat == nil || u.WeChat.UnionID != "" || u.WeChat.OpenID != wx.OpenID {
		return u, nil
	}
	updated, err := r.store.AddUnionID(ctx, u.ID, wx.OpenID, wx.UnionID, r.now())
	switch {
	case err == nil:
		return updated, nil
	case errors.Is(err, store.ErrDuplicate), errors.Is(err, store.ErrConflict):
		logging.FromContext(ctx).Warn("unionid not recorded: held by another account", "userId", u.ID.Hex())
		return u, nil
	}
	return nil, fmt.Errorf("account: record unionid: %w", err)
}

// holderOf returns the user holding the WeChat identity: by openid first,
// then by unionid (the same person in another app of the same developer).
func holderOf(users []store.User, wx store.WeChat) *store.User {
	for i := range users {
		if users[i].WeChat != nil && users[i].WeChat.OpenID == wx.OpenID {
			return &users[i]
		}
	}
	if wx.UnionID == "" {
		return nil
	}
	for i := range users {
		if users[i].WeChat != nil && users[i].WeChat.UnionID == wx.UnionID {
			return &users[i]
		}
	}
	return nil
}

func holderOfPhone(users []store.User, countryCode, number string) *store.User {
	for i := range users {
		if users[i].CountryCode == countryCode && users[i].Phone == number {
			return &users[i]
		}
	}
	return nil
}
