package account

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
)

// errChanged means the account or an identity changed between looking and
// linking: the caller looks again.
var errChanged = errors.New("account: changed meanwhile")

// bind links ids, all of one kind (a phone, or a WeChat user's openid and
// unionid) and free as last looked, to the account u: it claims them, then
// adds them to the account in one conditional update, which for a phone
// also replaces the phone u had (the old claim is then released). Until
// that update the account keeps what it had; from it on, it has the new;
// and no other account can take either in between.
func (r *Resolver) bind(ctx context.Context, u *store.User, ids []store.Identity) (*store.User, error) {
	now := r.now()
	var claimed []store.Identity
	for _, id := range ids {
		err := r.store.Claim(ctx, id, u.ID, now)
		if errors.Is(err, store.ErrDuplicate) {
			// Ours already, from a link of this account cut short?
			if c, cerr := r.store.ClaimOf(ctx, id); cerr == nil && c.UserID == u.ID {
				continue
			}
		}
		if err != nil {
			r.releaseAll(ctx, claimed, u.ID)
			if errors.Is(err, store.ErrDuplicate) {
				return nil, errChanged
			}
			return nil, err
		}
		claimed = append(claimed, id)
	}
	want := *u
	for _, id := range ids {
		setIdentity(&want, id)
	}
	var updated *store.User
	var err error
	if ids[0].Kind() == "phone" {
		updated, err = r.store.SetPhone(ctx, u.ID, want.CountryCode, want.Phone, u.Phone, now)
	} else {
		updated, err = r.store.SetWeChat(ctx, u.ID, *want.WeChat, now)
	}
	if err != nil {
		// Refused (the account changed) or failed without our knowing
		// whether it applied: the account as it is now decides.
		var lerr error
		if updated, lerr = r.afterFailedBind(ctx, u.ID, ids, claimed); updated == nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, lerr
			}
			return nil, err
		}
	}
	if old := store.PhoneIdentity(u.CountryCode, u.Phone); ids[0].Kind() == "phone" && u.HasPhone() && !updated.Holds(old) {
		r.releaseAll(ctx, []store.Identity{old}, u.ID)
	}
	return updated, nil
}

// afterFailedBind is what a bind does when its update of the account was
// refused or failed. A concurrent bind of the same identities to the same
// account may be why: it found them claimed for the account, went on with
// those claims, and won; or the update applied and only its answer was
// lost. So the claims this bind made are released only if the account does
// not list them now, and when it lists all of ids the bind is done: the
// account is returned. Otherwise nil and errChanged (look again), or the
// error that kept it from reading the account (the claims then stay, for
// the next request that meets them to settle).
func (r *Resolver) afterFailedBind(ctx context.Context, id bson.ObjectID, ids, claimed []store.Identity) (*store.User, error) {
	fresh, err := r.store.UserByID(ctx, id)
	if err != nil && !errors.Is(err, store.ErrUserNotFound) {
		return nil, err
	}
	live := err == nil && !fresh.IsDeleted()
	var unlisted []store.Identity
	for _, c := range claimed {
		if !live || !fresh.Holds(c) {
			unlisted = append(unlisted, c)
		}
	}
	r.releaseAll(ctx, unlisted, id)
	if live && holdsAll(fresh, ids) {
		return fresh, nil
	}
	return nil, errChanged
}

func holdsAll(u *store.User, ids []store.Identity) bool {
	for _, id := range ids {
		if !u.Holds(id) {
			return false
		}
	}
	return true
}

// othersOf leaves out of hs the claims of u itself: a claim of u that u
// does not list is a link of u cut short, which linking it again finishes.
func othersOf(hs map[store.Identity]holding, u *store.User) map[store.Identity]holding {
	out := make(map[store.Identity]holding, len(hs))
	for id, h := range hs {
		if h.claim == nil || h.claim.UserID != u.ID {
			out[id] = h
		}
	}
	return out
}

// reload reads the account again after it changed under a request.
func (r *Resolver) reload(ctx context.Context, u *store.User) (*store.User, error) {
	fresh, err := r.store.UserByID(ctx, u.ID)
	if errors.Is(err, store.ErrUserNotFound) || (err == nil && fresh.IsDeleted()) {
		return nil, apierror.NotAuthenticated(errors.New("account deleted meanwhile"))
	}
	return fresh, err
}

// LinkPhone binds a verified mainland number to the account u, or replaces
// its number (换绑). A number held by another account is ACCOUNT_CONFLICT.
func (r *Resolver) LinkPhone(ctx context.Context, u *store.User, number string) (*store.User, error) {
	p := store.PhoneIdentity(phone.CountryCode, number)
	look := r.looker(nil, p)
	for {
		if u.Holds(p) {
			return u, nil
		}
		look.mine = u
		hs, err := look.next(ctx)
		if err != nil {
			return nil, err
		}
		if holder := hs[p].holder(); holder != nil && holder.ID != u.ID {
			return nil, apierror.Conflict("phone")
		}
		old := u.Phone
		linked, err := r.bind(ctx, u, []store.Identity{p})
		if errors.Is(err, errChanged) {
			if u, err = r.reload(ctx, u); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		log := logging.FromContext(ctx)
		if old != "" {
			log.Info("phone changed", "userId", u.ID.Hex(), "from", phone.Mask(old), "to", phone.Mask(number))
		} else {
			log.Info("phone linked", "userId", u.ID.Hex(), "phone", phone.Mask(number))
		}
		return linked, nil
	}
}

// LinkWeChat binds a WeChat user to the account u. ACCOUNT_CONFLICT when
// the WeChat user belongs to another account, or u has another one.
func (r *Resolver) LinkWeChat(ctx context.Context, u *store.User, wx store.WeChat) (*store.User, error) {
	ids := wechatIDs(wx)
	look := r.looker(nil, ids...)
	for {
		switch {
		case u.Holds(store.OpenIDIdentity(wx.OpenID)):
			return r.completeUnionID(ctx, u, wx)
		case u.HasWeChat():
			return nil, apierror.Conflict("wechat")
		}
		look.mine = u
		hs, err := look.next(ctx)
		if err != nil {
			return nil, err
		}
		if holder := weChatHolder(hs, wx); holder != nil && holder.ID != u.ID {
			return nil, apierror.Conflict("wechat")
		}
		linked, err := r.bind(ctx, u, ids)
		if errors.Is(err, errChanged) {
			if u, err = r.reload(ctx, u); err != nil {
				return nil, err
			}
			continue
		}
		if err == nil {
			logging.FromContext(ctx).Info("WeChat linked", "userId", u.ID.Hex())
		}
		return linked, err
	}
}

// unlinking is one of the two ways to log in, as an unlink sees it.
type unlinking struct {
	what string
	// has and other report whether the account has this way and the other.
	has, other func(*store.User) bool
	// ids are the identities this way holds.
	ids func(*store.User) []store.Identity
	// remove takes it from the account, if the other is still there.
	remove func(context.Context, *store.User) (*store.User, error)
}

// UnlinkPhone removes the account's phone number; LAST_IDENTITY when it
// has no WeChat identity to log in with.
func (r *Resolver) UnlinkPhone(ctx context.Context, u *store.User) (*store.User, error) {
	return r.unlink(ctx, u, unlinking{
		what: "phone", has: (*store.User).HasPhone, other: (*store.User).HasWeChat,
		ids: func(u *store.User) []store.Identity {
			return []store.Identity{store.PhoneIdentity(u.CountryCode, u.Phone)}
		},
		remove: func(ctx context.Context, u *store.User) (*store.User, error) {
			return r.store.RemovePhone(ctx, u.ID, u.Phone, r.now())
		},
	})
}

// UnlinkWeChat removes the account's WeChat identity; LAST_IDENTITY when it
// has no phone number to log in with.
func (r *Resolver) UnlinkWeChat(ctx context.Context, u *store.User) (*store.User, error) {
	return r.unlink(ctx, u, unlinking{
		what: "WeChat", has: (*store.User).HasWeChat, other: (*store.User).HasPhone,
		ids: func(u *store.User) []store.Identity { return wechatIDs(*u.WeChat) },
		remove: func(ctx context.Context, u *store.User) (*store.User, error) {
			return r.store.RemoveWeChat(ctx, u.ID, u.WeChat.OpenID, r.now())
		},
	})
}

// unlink removes one way to log in from the account, in one conditional
// update that requires the other way to be there: of a concurrent unlink
// of both, exactly one succeeds. Then it releases the claims, which frees
// them at once.
func (r *Resolver) unlink(ctx context.Context, u *store.User, way unlinking) (*store.User, error) {
	for attempt := 0; attempt < 3; attempt++ {
		switch {
		case !way.has(u):
			return u, nil
		case !way.other(u):
			return nil, apierror.NoOtherIdentity()
		}
		updated, err := way.remove(ctx, u)
		if errors.Is(err, store.ErrConflict) {
			if u, err = r.reload(ctx, u); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		r.releaseAll(ctx, way.ids(u), u.ID)
		attrs := []any{"userId", u.ID.Hex()}
		if u.HasPhone() && way.what == "phone" {
			attrs = append(attrs, "phone", phone.Mask(u.Phone))
		}
		logging.FromContext(ctx).Info(way.what+" unlinked", attrs...)
		return updated, nil
	}
	return nil, apierror.Bug(errRaceLost)
}

// Delete deletes the account u: it becomes a tombstone (its profile and
// sessions gone, its tokens refused at once), then its identities are
// released, free at once for a new account. A disabled account cannot
// delete itself.
func (r *Resolver) Delete(ctx context.Context, u *store.User) error {
	gone, err := r.store.DeleteUser(ctx, u.ID, r.now())
	if errors.Is(err, store.ErrConflict) {
		fresh, err := r.reload(ctx, u)
		if err != nil {
			return err
		}
		if fresh.IsDisabled() {
			return apierror.Disabled()
		}
		return apierror.Bug(errors.New("account could not be deleted, yet it is there and enabled"))
	}
	if err != nil {
		return err
	}
	r.releaseAll(ctx, gone.Identities(), gone.ID)
	logging.FromContext(ctx).Info("account deleted", "userId", gone.ID.Hex())
	return nil
}

// HolderOfWeChat is the live account of a WeChat user (a wx.cloud caller),
// settling what an interrupted request left on the way; nil when none.
func (r *Resolver) HolderOfWeChat(ctx context.Context, wx store.WeChat) (*store.User, error) {
	hs, err := r.looker(nil, wechatIDs(wx)...).next(ctx)
	if err != nil {
		return nil, err
	}
	return weChatHolder(hs, wx), nil
}
