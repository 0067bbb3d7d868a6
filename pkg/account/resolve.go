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
// login's session in it (API.md §4), and links and unlinks identities.
// Every path keeps one account per identity under concurrency (doc.go): of
// two first logins of one person exactly one creates the account and the
// other logs into it.
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

// weChatKey is the identity that finds a WeChat user's account first: the
// unionid, shared by the person's apps, else the app's openid.
func weChatKey(wx store.WeChatUser) store.Identity {
	if wx.UnionID != "" {
		return store.UnionIDIdentity(wx.UnionID)
	}
	return store.OpenIDIdentity(wx.AppID, wx.OpenID)
}

// weChatHolder is the account holding a WeChat user: by unionid, else by
// the app's openid.
func weChatHolder(hs map[store.Identity]holding, wx store.WeChatUser) *store.User {
	if wx.UnionID != "" {
		if u := hs[store.UnionIDIdentity(wx.UnionID)].holder(); u != nil {
			return u
		}
	}
	return hs[store.OpenIDIdentity(wx.AppID, wx.OpenID)].holder()
}

// canTake reports whether the account u may list the WeChat user wx: it has
// no other openid in that app and no other unionid.
func canTake(u *store.User, wx store.WeChatUser) bool {
	if o := u.OpenIDIn(wx.AppID); o != "" && o != wx.OpenID {
		return false
	}
	return wx.UnionID == "" || u.UnionID() == "" || u.UnionID() == wx.UnionID
}

// missing lists the identities of wx the account u does not list yet and
// may take: free, as hs last saw them (all, when hs is nil).
func missing(u *store.User, wx store.WeChatUser, hs map[store.Identity]holding) []store.Identity {
	var ids []store.Identity
	if u.OpenIDIn(wx.AppID) == "" {
		ids = append(ids, store.OpenIDIdentity(wx.AppID, wx.OpenID))
	}
	if wx.UnionID != "" && u.UnionID() == "" {
		ids = append(ids, store.UnionIDIdentity(wx.UnionID))
	}
	if hs == nil {
		return ids
	}
	var free []store.Identity
	for _, id := range ids {
		if h := hs[id]; h.free() || h.claim.UserID == u.ID {
			free = append(free, id)
		}
	}
	return free
}

// held lists the identities of ids that u lists.
func held(u *store.User, ids []store.Identity) []store.Identity {
	var out []store.Identity
	for _, id := range ids {
		if u.Holds(id) {
			out = append(out, id)
		}
	}
	return out
}

// fresh is a new account, yet to be created, listing ids.
func (r *Resolver) fresh(ids ...store.Identity) *store.User {
	u := store.NewUser(r.now())
	for _, id := range ids {
		u.List(id, "")
	}
	return u
}

// ByPhone logs in by a verified mainland phone number, creating the
// account on first login (under newID, if that first creation is the one
// that succeeds). claim is PhoneClaim's answer, read before. With wx (a
// loginCode, or a wx.cloud caller), one person never gets two accounts: a
// WeChat-only account gets the phone, a phone-only account without WeChat
// of that app gets the WeChat identity, and when both sides have accounts,
// or either is bound elsewhere, the phone's account logs in unchanged (the
// SMS code proves the phone).
func (r *Resolver) ByPhone(ctx context.Context, number string, wx *store.WeChatUser, claim *store.Claim, newID bson.ObjectID, ns *NewSession) (*store.User, bool, error) {
	p := store.PhoneIdentity(phone.CountryCode, number)
	if claim != nil {
		// The everyday path: one round trip stores the session in the
		// account the claim names, if it holds the phone; that account
		// then gains what it lacks of the WeChat user, where free, as a
		// look would have had it.
		u, err := r.attach(ctx, claim.UserID, []store.Identity{p}, ns)
		if u != nil && wx != nil {
			u = r.complete(ctx, u, *wx, p)
		}
		if u != nil || err != nil {
			return u, false, err
		}
	}
	ids := []store.Identity{p}
	if wx != nil {
		ids = append(ids, wx.Identities()...)
	}
	look := r.look(map[store.Identity]*store.Claim{p: claim}, ids...)
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
		case byPhone == nil && byWeChat == nil:
			u, isNew = r.fresh(ids...), true
			if !newID.IsZero() {
				u.ID, newID = newID, bson.ObjectID{} // a retry gets a fresh id
			}
			u, err = r.create(ctx, u, ns)
		case byPhone == nil && byWeChat.HasPhone():
			// The WeChat user's account has another number: this one gets
			// an account of its own.
			u, isNew = r.fresh(p), true
			u, err = r.create(ctx, u, ns)
		case byPhone == nil:
			u, err = r.link(ctx, byWeChat, p, *wx, hs, ns)
		case wx != nil && byWeChat == nil && canTake(byPhone, *wx) && !byPhone.IsDisabled():
			u, err = r.link(ctx, byPhone, p, *wx, hs, ns)
		default:
			if byWeChat != nil && byWeChat.ID != byPhone.ID {
				logging.FromContext(ctx).Info("WeChat identity not bound: it belongs to another account", "userId", byPhone.ID.Hex())
			}
			if u, err = r.attach(ctx, byPhone.ID, []store.Identity{p}, ns); u != nil && byWeChat != nil && byWeChat.ID == u.ID {
				u = r.complete(ctx, u, *wx, p) // the app's openid, when the unionid found the account
			}
		}
		if u != nil || err != nil {
			return u, isNew, err
		}
		// Someone changed these identities meanwhile: look again.
	}
}

// ByWeChat logs in by a WeChat user, creating the account on first login
// with the optional nickname and avatar, which otherwise only fill fields
// still empty. An account found by the unionid gains the app's openid.
func (r *Resolver) ByWeChat(ctx context.Context, wx store.WeChatUser, nickname, avatarURL string, ns *NewSession) (*store.User, bool, error) {
	key := weChatKey(wx)
	// The everyday path: the key's claim, then one round trip stores the
	// session in its account.
	claim, err := r.store.ClaimOf(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotClaimed) {
		return nil, false, err
	}
	if claim != nil {
		u, err := r.attach(ctx, claim.UserID, []store.Identity{key}, ns)
		if err != nil {
			return nil, false, err
		}
		if u != nil {
			return r.returning(ctx, u, wx, nickname, avatarURL, false)
		}
	}
	look := r.look(map[store.Identity]*store.Claim{key: claim}, wx.Identities()...)
	signingUp := false
	for {
		hs, err := look.next(ctx)
		if err != nil {
			return nil, false, err
		}
		if holder := weChatHolder(hs, wx); holder != nil {
			u, err := r.attach(ctx, holder.ID, held(holder, wx.Identities()), ns)
			if err != nil {
				return nil, false, err
			}
			if u != nil {
				return r.returning(ctx, u, wx, nickname, avatarURL, signingUp)
			}
			continue
		}
		u := r.fresh(wx.Identities()...)
		u.Nickname, u.AvatarURL = nickname, avatarURL
		if u, err = r.create(ctx, u, ns); u != nil || err != nil {
			return u, true, err
		}
		// Another request created the account first (or took this creation
		// for cut short): this sign-up's nickname still replaces the one it
		// made up.
		signingUp = true
	}
}

// returning completes a returning WeChat user's account: the identities
// WeChat now reports that it lacks, and a nickname or avatar where it has
// none (or, for a sign-up that another request's creation overtook, a
// nickname in place of a made-up one).
func (r *Resolver) returning(ctx context.Context, u *store.User, wx store.WeChatUser, nickname, avatarURL string, signingUp bool) (*store.User, bool, error) {
	u = r.complete(ctx, u, wx)
	u, err := r.store.FillNameAndAvatar(ctx, u, nickname, avatarURL, signingUp, r.now(), held(u, wx.Identities())...)
	return u, false, err
}

// complete adds to the account u the identities of wx it lacks (the app's
// openid, the unionid), when they are free, and while u still holds what
// it held of wx and proven (the phone a login proved), so that the answer
// never shows the account without what the login proved. Failing to does
// not fail the login it is part of.
func (r *Resolver) complete(ctx context.Context, u *store.User, wx store.WeChatUser, proven ...store.Identity) *store.User {
	add := missing(u, wx, nil)
	if len(add) == 0 || !canTake(u, wx) {
		return u
	}
	linked, err := r.bind(ctx, u, add, false, held(u, append(wx.Identities(), proven...))...)
	switch {
	case errors.Is(err, errChanged):
		logging.FromContext(ctx).Info("WeChat identity not added: another account holds it, or the account changed meanwhile", "userId", u.ID.Hex())
		return u
	case err != nil:
		logging.FromContext(ctx).Warn("WeChat identity not added to the account", "userId", u.ID.Hex(), "cause", err.Error())
		return u
	}
	return linked
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
func (r *Resolver) ByPhoneAndWeChat(ctx context.Context, countryCode, number string, wx store.WeChatUser, ns *NewSession) (*store.User, Outcome, error) {
	p := store.PhoneIdentity(countryCode, number)
	key := weChatKey(wx)
	claims, err := r.store.ClaimsOf(ctx, p, key)
	if err != nil {
		return nil, Returning, err
	}
	if cp, ck := claims[p], claims[key]; cp != nil && ck != nil && cp.UserID == ck.UserID {
		// The everyday path: both claims name one account; one round trip
		// stores the session in it if it holds both.
		u, err := r.attach(ctx, cp.UserID, []store.Identity{p, key}, ns)
		if err != nil {
			return nil, Returning, err
		}
		if u != nil {
			return r.complete(ctx, u, wx, p), Returning, nil
		}
	}
	ids := append([]store.Identity{p}, wx.Identities()...)
	look := r.look(map[store.Identity]*store.Claim{p: claims[p], key: claims[key]}, ids...)
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
			u, err = r.create(ctx, r.fresh(ids...), ns)
			outcome = Created
		case byPhone != nil && byWeChat != nil && byPhone.ID == byWeChat.ID:
			if u, err = r.attach(ctx, byPhone.ID, []store.Identity{p}, ns); u != nil {
				u = r.complete(ctx, u, wx, p)
			}
		case byPhone != nil && byWeChat != nil:
			return nil, Returning, apierror.Conflict("phone")
		case byPhone != nil:
			if !canTake(byPhone, wx) {
				return nil, Returning, apierror.Conflict("phone")
			}
			u, err = r.link(ctx, byPhone, p, wx, hs, ns)
			outcome = WeChatLinked
		default:
			if byWeChat.HasPhone() {
				return nil, Returning, apierror.Conflict("wechat")
			}
			u, err = r.link(ctx, byWeChat, p, wx, hs, ns)
			outcome = PhoneLinked
		}
		if u != nil || err != nil {
			return u, outcome, err
		}
	}
}

// HolderOfWeChat is the live account of a WeChat user (a wx.cloud caller),
// settling what an interrupted request left on the way; nil when none.
func (r *Resolver) HolderOfWeChat(ctx context.Context, wx store.WeChatUser) (*store.User, error) {
	hs, err := r.look(nil, wx.Identities()...).next(ctx)
	if err != nil {
		return nil, err
	}
	return weChatHolder(hs, wx), nil
}

// Settle finishes or undoes what interrupted requests left of the claims
// of ids, as any request meeting them does on its way: operators' tools
// and the invariant checker use it.
func (r *Resolver) Settle(ctx context.Context, ids ...store.Identity) error {
	_, err := r.look(nil, ids...).next(ctx)
	return err
}
