package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/store"
)

// find returns the account an invocation names, by primary key only: by
// its id, or through the claim of the identity (whose _id is the
// identity) and then its account. A deleted account is found by id only,
// as its tombstone: its identities were freed.
func (t *tool) find(ctx context.Context, inv *invocation) (*store.User, error) {
	sel := inv.selector
	if sel.kind == "id" {
		id, err := bson.ObjectIDFromHex(sel.value)
		if err != nil {
			return nil, fmt.Errorf("-id %q is not an account id (24 hex digits)", sel.value)
		}
		u, err := t.store.UserByID(ctx, id)
		if errors.Is(err, store.ErrUserNotFound) {
			return nil, fmt.Errorf("no account %s", sel.value)
		}
		return u, err
	}
	identity, shown, err := identityOf(sel, t.appID)
	if err != nil {
		return nil, err
	}
	claim, err := t.store.ClaimOf(ctx, identity)
	if errors.Is(err, store.ErrNotClaimed) {
		return nil, fmt.Errorf("no account holds %s", shown)
	}
	if err != nil {
		return nil, err
	}
	u, err := t.store.UserByID(ctx, claim.UserID)
	switch {
	case errors.Is(err, store.ErrUserNotFound) || (err == nil && !u.Holds(identity)):
		return nil, fmt.Errorf("the claim of %s names account %s, which does not hold it: a change of it is under way or was cut short, and the next login with it settles that; look at that account with -id %s",
			shown, claim.UserID.Hex(), claim.UserID.Hex())
	case err != nil:
		return nil, err
	}
	return u, nil
}

// identityOf is the identity a selector names, and how to show it. An
// openid is of the app it names (-openid wx…:o…), else of app.
func identityOf(sel selector, app string) (store.Identity, string, error) {
	switch sel.kind {
	case "phone":
		number, err := phone.Normalize(sel.value)
		if err != nil {
			return "", "", fmt.Errorf("-phone %q is not a mainland mobile number", sel.value)
		}
		return store.PhoneIdentity(phone.CountryCode, number), "phone " + phone.Mask(number), nil
	case "openid":
		openid := sel.value
		if named, rest, ok := strings.Cut(sel.value, ":"); ok {
			app, openid = named, rest
		}
		if app == "" {
			return "", "", errors.New("-openid needs its app: -openid <appid>:<openid>, or set WECHAT_APPID")
		}
		return store.OpenIDIdentity(app, openid), "openid " + openid + " of " + app, nil
	default:
		return store.UnionIDIdentity(sel.value), "unionid " + sel.value, nil
	}
}

// summary names an account in one line, its number masked.
func summary(u *store.User) string {
	s := "account " + u.ID.Hex()
	if u.HasPhone() {
		s += ", phone " + phone.Mask(u.Phone)
	}
	if u.HasWeChat() {
		s += ", WeChat"
	}
	return s
}
