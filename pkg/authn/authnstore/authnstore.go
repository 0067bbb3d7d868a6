// Package authnstore is the login's database as package authn reads it
// for AuthenticateSession: the account of a token, to check its session,
// and the account of a wx.cloud caller. It applies the login's own rules
// (package session, package account), so a session the login has ended is
// ended here too. It is a package of its own so that a function checking
// signatures only links no database driver.
package authnstore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/authn"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Accounts reads the login's accounts.
type Accounts struct {
	store    *store.Store
	resolver *account.Resolver
	now      func() time.Time
}

var _ authn.Accounts = (*Accounts)(nil)

// New returns the accounts of the login's store st (store.Connect with its
// MONGODB_URI and MONGODB_DATABASE), reading time from now (time.Now if
// nil).
func New(st *store.Store, now func() time.Time) *Accounts {
	if now == nil {
		now = time.Now
	}
	return &Accounts{store: st, resolver: account.NewResolver(st, now), now: now}
}

// CheckSession reads the account, one round trip, and applies the login's
// rule of a live session.
func (a *Accounts) CheckSession(ctx context.Context, userID, sessionID string) error {
	id, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return apierror.NotAuthenticated(errors.New("authnstore: not a user id"))
	}
	u, err := a.store.UserByID(ctx, id)
	if err != nil && !errors.Is(err, store.ErrUserNotFound) {
		return err
	}
	return session.CheckLive(u, sessionID, a.now())
}

// WeChatUser finds the enabled account of a WeChat user by its identity
// claims (the app's openid, and the unionid when the platform gave one),
// as the login's profile function does for a wx.cloud caller: the
// claims, then the account (two round trips; three with a unionid, whose
// claim is read beside the openid's).
func (a *Accounts) WeChatUser(ctx context.Context, wx authn.WeChatCaller) (string, error) {
	u, err := a.resolver.HolderOfWeChat(ctx, store.WeChatUser{AppID: wx.AppID, OpenID: wx.OpenID, UnionID: wx.UnionID})
	switch {
	case err != nil:
		return "", err
	case u == nil:
		return "", apierror.NotAuthenticated(errors.New("authnstore: no account for this WeChat user"))
	case u.IsDisabled():
		return "", apierror.Disabled()
	}
	return u.ID.Hex(), nil
}
