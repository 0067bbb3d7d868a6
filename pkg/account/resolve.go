package account

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Resolver finds or creates the account behind a login and stores the
// login's session in it (API.md §4). Every path is safe under concurrency:
// an identity is held through its claim, created by insert, so of two first
// logins of one person exactly one creates the account and the other logs
// into it.
type Resolver struct {
	store *store.Store
	now   func() time.Time
}

// NewResolver returns a resolver over s reading time from now.
func NewResolver(s *store.Store, now func() time.Time) *Resolver {
	return &Resolver{store: s, now: now}
}

// PhoneClaim reads who holds a mainland phone number, so that phone-login
// can record the account beside the phone's SMS state as it takes the
// code. The claim is then handed to ByPhone, which trusts nothing in it it
// does not check.
func (r *Resolver) PhoneClaim(ctx context.Context, number string) (*store.Claim, error) {
	c, err := r.store.ClaimOf(ctx, store.PhoneIdentity(phone.CountryCode, number))
	if errors.Is(err, store.ErrNotClaimed) {
		return nil, nil
	}
	return c, err
}

// wechatIDs are the identities of a WeChat user: openid, and unionid when
// known.
func wechatIDs(wx store.WeChat) []store.Identity {
	ids := []store.Identity{store.OpenIDIdentity(wx.OpenID)}
	if wx.UnionID != "" {
		ids = append(ids, store.UnionIDIdentity(wx.UnionID))
	}
	return ids
}

// weChatHolder is the account holding a WeChat user: by openid, else by
// unionid (the same person in another app of the same developer).
func weChatHolder(hs map[store.Identity]holding, wx store.WeChat) *store.User {
	if u := hs[store.OpenIDIdentity(wx.OpenID)].holder(); u != nil {
		return u
	}
	if wx.UnionID != "" {
		return hs[store.UnionIDIdentity(wx.UnionID)].holder()
	}
	return nil
}

// ByPhone logs in by a verified mainland phone number, creating the
// account on first login, with id newID. claim is PhoneClaim's answer,
// read before. With
// wx (a loginCode, or a wx.cloud caller), one person never gets two
// accounts: a WeChat-only account gets the phone, a phone-only account
// gets the WeChat identity, and when both sides have accounts, or either
// is bound elsewhere, the phone's account logs in unchanged (the SMS code
// proves the phone).
func (r *Resolver) ByPhone(ctx context.Context, number string, wx *store.WeChat, claim *store.Claim, newID bson.ObjectID, ns *NewSession) (*store.User, bool, error) {
	p := store.PhoneIdentity(phone.CountryCode, number)
	if wx == nil && claim != nil {
		// The everyday path: one round trip stores the session in the
		// account the claim names and checks that it holds the phone.
		if u, err := r.attach(ctx, claim.UserID, []store.Identity{p}, ns); u != nil || err != nil {
			return u, false, err
		}
	}
	ids := []store.Identity{p}
	if wx != nil {
		ids = append(ids, wechatIDs(*wx)...)
	}
	look := r.looker(map[store.Identity]*store.Claim{p: claim}, ids...)
	for {
		hs, err := look.next(ctx)
		if err != nil {
			return nil, false, err
		}
		byPhone := hs[p].holder()
		var byWeChat *store.User
		if wx != nil {
			byWeChat = weChatHolder(hs, *wx)
		}
		var u *store.User
		isNew := false
		switch {
		case byPhone == nil && (byWeChat == nil || wx == nil):
			fresh := store.NewUser(r.now())
			fresh.ID, fresh.CountryCode, fresh.Phone = newID, phone.CountryCode, number
			want := []store.Identity{p}
			if wx != nil {
				w := *wx
				fresh.WeChat, want = &w, ids
			}
			u, err = r.create(ctx, fresh, want, ns)
			isNew = true
		case byPhone == nil && byWeChat.HasPhone():
			// The WeChat identity's account has another number: this one
			// gets an account of its own.
			fresh := store.NewUser(r.now())
			fresh.ID, fresh.CountryCode, fresh.Phone = newID, phone.CountryCode, number
			u, err = r.create(ctx, fresh, []store.Identity{p}, ns)
			isNew = true
		case byPhone == nil:
			u, err = r.link(ctx, byWeChat, []store.Identity{p}, ns)
		case wx != nil && byWeChat == nil && !byPhone.HasWeChat() && !byPhone.IsDisabled():
			u, err = r.link(ctx, byPhone, wechatIDs(*wx), ns)
		default:
			if byWeChat != nil && byWeChat.ID != byPhone.ID {
				logging.FromContext(ctx).Info("WeChat identity not bound: it belongs to another account", "userId", byPhone.ID.Hex())
			}
			u, err = r.attach(ctx, byPhone.ID, []store.Identity{p}, ns)
		}
		if u != nil || err != nil {
			return u, isNew, err
		}
		// Someone changed these identities meanwhile: look again.
	}
}

// ByWeChat logs in by a WeChat identity, creating the account on first
// login with the optional nickname and avatar, which otherwise only fill
// fields still empty.
func (r *Resolver) ByWeChat(ctx context.Context, wx store.WeChat, nickname, avatarURL string, ns *NewSession) (*store.User, bool, error) {
	open := store.OpenIDIdentity(wx.OpenID)
	// The everyday path: the openid's claim, then one round trip stores
	// the session in its account.
	claim, err := r.store.ClaimOf(ctx, open)
	if err != nil && !errors.Is(err, store.ErrNotClaimed) {
		return nil, false, err
	}
	if claim != nil {
		u, err := r.attach(ctx, claim.UserID, []store.Identity{open}, ns)
		if err != nil {
			return nil, false, err
		}
		if u != nil {
			u, err = r.returning(ctx, u, wx, nickname, avatarURL)
			return u, false, err
		}
	}
	ids := wechatIDs(wx)
	var known map[store.Identity]*store.Claim
	if claim == nil {
		known = map[store.Identity]*store.Claim{open: nil}
	}
	look := r.looker(known, ids...)
	for {
		hs, err := look.next(ctx)
		if err != nil {
			return nil, false, err
		}
		if holder := weChatHolder(hs, wx); holder != nil {
			var held []store.Identity
			for _, id := range ids {
				if holder.Holds(id) {
					held = append(held, id)
				}
			}
			u, err := r.attach(ctx, holder.ID, held, ns)
			if err != nil {
				return nil, false, err
			}
			if u != nil {
				u, err = r.returning(ctx, u, wx, nickname, avatarURL)
				return u, false, err
			}
			continue
		}
		fresh := store.NewUser(r.now())
		fresh.WeChat, fresh.Nickname, fresh.AvatarURL = &wx, nickname, avatarURL
		u, err := r.create(ctx, fresh, ids, ns)
		if u != nil || err != nil {
			return u, true, err
		}
	}
}

// returning completes a returning WeChat user's account: the unionid
// WeChat now reports, and a nickname or avatar where the account has none.
func (r *Resolver) returning(ctx context.Context, u *store.User, wx store.WeChat, nickname, avatarURL string) (*store.User, error) {
	u, err := r.completeUnionID(ctx, u, wx)
	if err != nil {
		return nil, err
	}
	return r.store.FillNameAndAvatar(ctx, u, nickname, avatarURL, r.now())
}

// Outcome is what a login did to the accounts.
type Outcome int

// The outcomes of ByPhoneAndWeChat.
const (
	Returning    Outcome = iota // logged into an account as it was
	Created                     // created the account
	PhoneLinked                 // bound the phone to the WeChat user's account
	WeChatLinked                // bound the WeChat user to the phone's account
)

// ByPhoneAndWeChat logs in by a phone number WeChat vouched for and the
// caller's WeChat identity (API.md §4): the same account or none logs in or
// creates one with both; when only one side has an account and the other
// identity is free, it is bound; anything else is ACCOUNT_CONFLICT and
// nothing changes.
func (r *Resolver) ByPhoneAndWeChat(ctx context.Context, countryCode, number string, wx store.WeChat, ns *NewSession) (*store.User, Outcome, error) {
	p := store.PhoneIdentity(countryCode, number)
	ids := append([]store.Identity{p}, wechatIDs(wx)...)
	claims, err := r.store.ClaimsOf(ctx, ids...)
	if err != nil {
		return nil, Returning, err
	}
	open := store.OpenIDIdentity(wx.OpenID)
	if cp, co := claims[p], claims[open]; cp != nil && co != nil && cp.UserID == co.UserID {
		// The everyday path: both claims name one account; one round trip
		// stores the session in it and checks that it holds both.
		u, err := r.attach(ctx, cp.UserID, []store.Identity{p, open}, ns)
		if u != nil {
			u, err = r.completeUnionID(ctx, u, wx)
		}
		if u != nil || err != nil {
			return u, Returning, err
		}
	}
	known := map[store.Identity]*store.Claim{}
	for _, id := range ids {
		known[id] = claims[id]
	}
	look := r.looker(known, ids...)
	for {
		hs, err := look.next(ctx)
		if err != nil {
			return nil, Returning, err
		}
		byPhone, byWeChat := hs[p].holder(), weChatHolder(hs, wx)
		var u *store.User
		outcome := Returning
		switch {
		case byPhone == nil && byWeChat == nil:
			fresh := store.NewUser(r.now())
			fresh.CountryCode, fresh.Phone, fresh.WeChat = countryCode, number, &wx
			u, err = r.create(ctx, fresh, ids, ns)
			outcome = Created
		case byPhone != nil && byWeChat != nil && byPhone.ID == byWeChat.ID:
			if u, err = r.attach(ctx, byPhone.ID, []store.Identity{p}, ns); u != nil {
				u, err = r.completeUnionID(ctx, u, wx)
			}
		case byPhone != nil && byWeChat != nil:
			return nil, Returning, apierror.Conflict("phone")
		case byPhone != nil:
			if byPhone.HasWeChat() {
				return nil, Returning, apierror.Conflict("phone")
			}
			u, err = r.link(ctx, byPhone, wechatIDs(wx), ns)
			outcome = WeChatLinked
		default:
			if byWeChat.HasPhone() {
				return nil, Returning, apierror.Conflict("wechat")
			}
			u, err = r.link(ctx, byWeChat, []store.Identity{p}, ns)
			outcome = PhoneLinked
		}
		if u != nil || err != nil {
			return u, outcome, err
		}
	}
}

// completeUnionID records a unionid WeChat now reports for an account
// that has none yet. Failing to record it does not fail the login.
func (r *Resolver) completeUnionID(ctx context.Context, u *store.User, wx store.WeChat) (*store.User, error) {
	if wx.UnionID == "" || !u.HasWeChat() || u.WeChat.UnionID != "" || u.WeChat.OpenID != wx.OpenID {
		return u, nil
	}
	id := store.UnionIDIdentity(wx.UnionID)
	err := r.store.Claim(ctx, id, u.ID, r.now())
	if errors.Is(err, store.ErrDuplicate) {
		logging.FromContext(ctx).Warn("unionid not recorded: held by another account", "userId", u.ID.Hex())
		return u, nil
	}
	if err != nil {
		return nil, err
	}
	updated, err := r.store.AddUnionID(ctx, u.ID, wx.OpenID, wx.UnionID, r.now())
	if err != nil {
		fresh, _ := r.afterFailedBind(ctx, u.ID, []store.Identity{id}, []store.Identity{id})
		switch {
		case fresh != nil:
			return fresh, nil
		case errors.Is(err, store.ErrConflict):
			return u, nil
		}
		return nil, err
	}
	return updated, nil
}

// link binds ids (free, as last looked) to the account u and logs into
// it; nil when the identities or the account changed meanwhile, and the
// caller looks again. A disabled account is not changed.
func (r *Resolver) link(ctx context.Context, u *store.User, ids []store.Identity, ns *NewSession) (*store.User, error) {
	if u.IsDisabled() {
		return nil, apierror.Disabled()
	}
	linked, err := r.bind(ctx, u, ids)
	if errors.Is(err, errChanged) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.attach(ctx, linked.ID, ids, ns)
}
