package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// handler serves the caller's own account.
type handler struct {
	store    *store.Store
	sessions *session.Service
	accounts *account.Resolver
	codes    *smscode.Checker
	keys     smscode.Keys
	// wechat exchanges the codes of a WeChat link or proof; WeChat is
	// optional here: without it, only those are refused.
	wechat *wechat.Apps
	// reauthWindow is how long after signing in a session needs no proof
	// for a change of the account's ways to log in (proof.go).
	reauthWindow time.Duration
	now          func() time.Time
}

func newHandler(d *app.Deps) (app.Handler, error) {
	h := &handler{store: d.Store, sessions: d.Sessions, accounts: d.Accounts, codes: d.Codes, keys: d.SMSKeys,
		reauthWindow: d.Config.ReauthWindow, now: d.Now}
	h.wechat = wechat.FromConfig(d.Config, d.Store, d.Now)
	return app.Handler{
		Routes: []adapter.Route{
			{Method: http.MethodGet, Path: "/profile", Action: "get", Handle: h.get},
			{Method: http.MethodPatch, Path: "/profile", Action: "update", Handle: h.update},
			{Method: http.MethodPut, Path: "/profile", Handle: h.update},
			{Method: http.MethodDelete, Path: "/profile", Action: "delete", Handle: h.delete},
			{Method: http.MethodPost, Path: "/profile/phone", Action: "bindPhone", Handle: h.bindPhone},
			{Method: http.MethodDelete, Path: "/profile/phone", Action: "unbindPhone", Handle: h.unbind(h.accounts.UnlinkPhone)},
			{Method: http.MethodPost, Path: "/profile/wechat", Action: "bindWeChat", Handle: h.bindWeChat},
			{Method: http.MethodDelete, Path: "/profile/wechat", Action: "unbindWeChat", Handle: h.unbind(h.accounts.UnlinkWeChat)},
			{Method: http.MethodGet, Path: "/profile/sessions", Action: "listSessions", Handle: h.listSessions},
			{Method: http.MethodDelete, Path: "/profile/sessions/{id}", Action: "revokeSession", Handle: h.revokeSession},
			{Method: http.MethodGet, Path: "/profile/security", Action: "security", Handle: h.security},
		},
		DefaultAction: "get",
	}, nil
}

// userAnswer is the answer of every route but delete.
func userAnswer(u *store.User) any { return map[string]any{"user": account.View(u)} }

// get answers the caller's account: one round trip with a token.
func (h *handler) get(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, _, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}

// update changes only the fields sent. With a token, one round trip: the
// update itself checks the session and that the account is enabled.
func (h *handler) update(ctx context.Context, req *adapter.Request) (any, error) {
	var id bson.ObjectID
	var sid string
	if req.AccessToken == "" && req.Caller != nil {
		u, _, err := h.caller(ctx, req)
		if err != nil {
			return nil, err
		}
		id = u.ID
	} else {
		p, err := h.sessions.Verify(req.AccessToken)
		if err != nil {
			return nil, err
		}
		id, sid = p.UserID, p.SessionID
	}
	changes, err := account.ParseChanges(req.Fields, h.now())
	if err != nil {
		return nil, err
	}
	if changes.Empty() {
		return h.get(ctx, req)
	}
	u, err := h.store.UpdateProfile(ctx, id, sid, changes, h.now())
	if errors.Is(err, store.ErrConflict) {
		// Not updated: say why (gone, session ended, disabled).
		if _, _, err = h.caller(ctx, req); err == nil {
			err = apierror.Bug(errors.New("profile update matched no account, yet the caller's account is there"))
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return userAnswer(u), nil
}

// delete deletes the account, once the request proved it holds it
// (proof.go): it becomes a tombstone at once (its tokens are refused from
// then on), then its identities are released. The SMS send records of
// its phone are abuse records, not account data: they stay until they
// expire.
func (h *handler) delete(ctx context.Context, req *adapter.Request) (any, error) {
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
	if err := h.accounts.Delete(ctx, u); err != nil {
		return nil, err
	}
	return map[string]any{"deleted": true}, nil
}

// caller is the enabled account making the request and the request's
// session: by access token (one round trip), or for a wx.cloud call
// without one, by the openid the platform vouches for (no session).
func (h *handler) caller(ctx context.Context, req *adapter.Request) (*store.User, string, error) {
	if req.AccessToken == "" && req.Caller != nil {
		u, err := h.accounts.HolderOfWeChat(ctx, *wechat.CallerIdentity(req.Caller))
		switch {
		case err != nil:
			return nil, "", err
		case u == nil:
			return nil, "", apierror.NotAuthenticated(errors.New("no account for this WeChat user"))
		case u.IsDisabled():
			return nil, "", apierror.Disabled()
		}
		return u, "", nil
	}
	p, u, err := h.sessions.Authenticate(ctx, req.AccessToken)
	if err != nil {
		return nil, "", err
	}
	return u, p.SessionID, nil
}
