package account

import (
	"context"
	"errors"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
)

// errChanged means the account or an identity changed between looking and
// linking: the caller looks again.
var errChanged = errors.New("account: changed meanwhile")

// link binds the phone p and the WeChat user wx (those of them free, or
// u's own, as hs last saw them) to the account u and logs into it, if u
// still holds what it held of them when looked at: what the login proved,
// and the unionid a missing openid goes with. nil when the identities or
// the account changed meanwhile, and the caller looks again. A disabled
// account is not changed.
func (r *Resolver) link(ctx context.Context, u *store.User, p store.Identity, wx store.WeChatUser, hs map[store.Identity]holding, ns *NewSession) (*store.User, error) {
	if u.IsDisabled() {
		return nil, apierror.Disabled()
	}
	var ids []store.Identity
	if !u.Holds(p) {
		ids = append(ids, p)
	}
	ids = append(ids, missing(u, wx, hs)...)
	requires := held(u, append(wx.Identities(), p))
	linked, err := r.bind(ctx, u, ids, false, requires...)
	if errors.Is(err, errChanged) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.attach(ctx, linked.ID, append(ids, requires...), ns)
}

// bind adds ids to the account u, in place of its phone when replacePhone,
// if the account still holds requires: it stamps their claims under a
// fresh lease, then changes the account in one conditional update that
// records the lease, then releases the claim of the number replaced,
// naming the lease u recorded for it. Until the update the account keeps
// what it had; from it on, it has the new; and no other account can take
// either in between.
func (r *Resolver) bind(ctx context.Context, u *store.User, ids []store.Identity, replacePhone bool, requires ...store.Identity) (*store.User, error) {
	if len(ids) == 0 {
		return u, nil
	}
	lease := store.NewLease()
	stamped, err := r.stamp(ctx, u, lease, ids)
	if err != nil {
		return nil, err
	}
	change := store.Change{Add: map[store.Identity]string{}, Requires: requires}
	for _, id := range ids {
		change.Add[id] = lease
	}
	old := store.PhoneIdentity(u.CountryCode, u.Phone)
	if replacePhone {
		change.Remove, change.Rev = []store.Identity{old}, u.Rev
	}
	updated, err := r.store.ChangeIdentities(ctx, u.ID, change, r.now())
	if err != nil {
		// Refused (the account changed), or failed without our knowing
		// whether it applied: the account as it is now decides.
		if updated, err = r.afterFailedBind(ctx, u, stamped, ids, requires, err); err != nil {
			return nil, err
		}
	}
	if replacePhone && !updated.Holds(old) {
		r.releaseListed(ctx, u, old)
	}
	return updated, nil
}

// afterFailedBind reads the account after its update failed. If it lists
// ids and still holds requires, the bind is done: the update applied and
// only its answer was lost, or a bind of the same identities to the same
// account raced this one and won. Either way the claims are settled as
// the account stands (undo), and otherwise the caller looks again
// (errChanged); if the account could not be read, the claims stay for the
// next request to settle.
func (r *Resolver) afterFailedBind(ctx context.Context, u *store.User, stamped *stamping, ids, requires []store.Identity, cause error) (*store.User, error) {
	fresh, err := r.store.UserByID(ctx, u.ID)
	if err != nil && !errors.Is(err, store.ErrUserNotFound) {
		return nil, cause
	}
	if err != nil {
		fresh = nil
	}
	r.undo(ctx, stamped, fresh)
	if fresh != nil && !fresh.IsDeleted() && holdsAll(fresh, ids) && holdsAll(fresh, requires) {
		return fresh, nil
	}
	if errors.Is(cause, store.ErrConflict) {
		return nil, errChanged
	}
	return nil, cause
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
	look := r.look(nil, p)
	for {
		if u.Holds(p) {
			return u, nil
		}
		look.mine = u.ID
		hs, err := look.next(ctx)
		if err != nil {
			return nil, err
		}
		if holder := hs[p].holder(); holder != nil && holder.ID != u.ID {
			return nil, apierror.Conflict("phone")
		}
		linked, err := r.bind(ctx, u, []store.Identity{p}, u.HasPhone())
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
		if u.HasPhone() {
			log.Info("phone changed", "userId", u.ID.Hex(), "from", phone.Mask(u.Phone), "to", phone.Mask(number))
		} else {
			log.Info("phone linked", "userId", u.ID.Hex(), "phone", phone.Mask(number))
		}
		return linked, nil
	}
}

// LinkWeChat binds a WeChat user to the account u. ACCOUNT_CONFLICT when
// the WeChat user belongs to another account, or u has another one (another
// openid in that app, another unionid).
func (r *Resolver) LinkWeChat(ctx context.Context, u *store.User, wx store.WeChatUser) (*store.User, error) {
	look := r.look(nil, wx.Identities()...)
	for {
		switch {
		case !canTake(u, wx):
			return nil, apierror.Conflict("wechat")
		case u.Holds(store.OpenIDIdentity(wx.AppID, wx.OpenID)):
			return r.complete(ctx, u, wx), nil
		}
		look.mine = u.ID
		hs, err := look.next(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			if holder := h.holder(); holder != nil && holder.ID != u.ID {
				return nil, apierror.Conflict("wechat")
			}
		}
		// The unionid u holds is why the openid alone is missing: the
		// link holds only while u still does.
		linked, err := r.bind(ctx, u, missing(u, wx, hs), false, held(u, wx.Identities())...)
		if errors.Is(err, errChanged) {
			if u, err = r.reload(ctx, u); err != nil {
				return nil, err
			}
			continue
		}
		if err == nil {
			logging.FromContext(ctx).Info("WeChat linked", "userId", u.ID.Hex(), "appId", wx.AppID)
		}
		return linked, err
	}
}

// UnlinkPhone removes the account's phone number; LAST_IDENTITY when it
// has no WeChat identity to log in with.
func (r *Resolver) UnlinkPhone(ctx context.Context, u *store.User) (*store.User, error) {
	return r.unlink(ctx, u, "phone", (*store.User).HasWeChat)
}

// UnlinkWeChat removes every WeChat identity of the account (each app's
// openid and the unionid); LAST_IDENTITY when it has no phone number to
// log in with.
func (r *Resolver) UnlinkWeChat(ctx context.Context, u *store.User) (*store.User, error) {
	return r.unlink(ctx, u, "WeChat", (*store.User).HasPhone)
}

// unlink removes one way to log in (the phone, or WeChat) from the
// account, in one update conditional on the account's identities being as
// read, with the other way among them: of a concurrent unlink of both,
// exactly one succeeds. Then it releases the claims, naming the leases
// the account recorded, which frees them at once.
func (r *Resolver) unlink(ctx context.Context, u *store.User, way string, other func(*store.User) bool) (*store.User, error) {
	for attempt := 0; attempt < 3; attempt++ {
		var ids []store.Identity
		for _, id := range u.Identities() {
			if (id.Kind() == "phone") == (way == "phone") {
				ids = append(ids, id)
			}
		}
		switch {
		case len(ids) == 0:
			return u, nil
		case !other(u):
			return nil, apierror.NoOtherIdentity()
		}
		updated, err := r.store.ChangeIdentities(ctx, u.ID, store.Change{Remove: ids, Rev: u.Rev}, r.now())
		if err != nil {
			fresh, rerr := r.reload(ctx, u)
			switch {
			case rerr != nil:
				return nil, rerr
			case errors.Is(err, store.ErrConflict):
				u = fresh
				continue
			case len(held(fresh, ids)) > 0:
				return nil, err
			}
			updated = fresh // it applied; only its answer was lost
		}
		r.releaseListed(ctx, u, ids...)
		attrs := []any{"userId", u.ID.Hex()}
		if way == "phone" {
			attrs = append(attrs, "phone", phone.Mask(u.Phone))
		}
		logging.FromContext(ctx).Info(way+" unlinked", attrs...)
		return updated, nil
	}
	return nil, apierror.Unavailable(errRaceLost)
}

// Delete deletes the account u: it becomes a tombstone (its profile and
// sessions gone, its tokens refused at once), then its identities are
// released, free at once for a new account. A disabled account cannot
// delete itself.
func (r *Resolver) Delete(ctx context.Context, u *store.User) error {
	gone, err := r.store.DeleteUser(ctx, u.ID, r.now())
	if err != nil {
		fresh, rerr := r.store.UserByID(ctx, u.ID)
		switch {
		case rerr != nil && !errors.Is(rerr, store.ErrUserNotFound):
			return err
		case rerr == nil && fresh.IsDisabled():
			return apierror.Disabled()
		case rerr == nil && !fresh.IsDeleted():
			if errors.Is(err, store.ErrConflict) {
				return apierror.Bug(errors.New("account could not be deleted, yet it is there and enabled"))
			}
			return err
		}
		// Deleted: by this request, whose answer was lost, or by another.
		// Claims naming a tombstone are released by whoever meets them;
		// these are the ones u listed.
		gone = u
	}
	r.releaseListed(ctx, gone, gone.Identities()...)
	logging.FromContext(ctx).Info("account deleted", "userId", gone.ID.Hex())
	return nil
}
