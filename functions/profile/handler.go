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
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/store"
)

// handler serves the caller's own account.
type handler struct {
	store    *store.Store
	sessions *session.Service
	now      func() time.Time
}

func newHandler(d *app.Deps) (app.Handler, error) {
	h := &handler{store: d.Store, sessions: d.Sessions, now: d.Now}
	return app.Handler{
		Routes: []adapter.Route{
			{Method: http.MethodGet, Path: "/profile", Action: "get", Handle: h.get},
			{Method: http.MethodPatch, Path: "/profile", Action: "update", Handle: h.update},
			{Method: http.MethodPut, Path: "/profile", Handle: h.update},
			{Method: http.MethodDelete, Path: "/profile", Action: "delete", Handle: h.delete},
		},
		DefaultAction: "get",
	}, nil
}

// get answers the caller's account: two round trips, run concurrently.
func (h *handler) get(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": account.View(u)}, nil
}

// update changes only the fields sent. With a token: the session check,
// then one update that also refuses a disabled account; two round trips.
func (h *handler) update(ctx context.Context, req *adapter.Request) (any, error) {
	id, err := h.callerID(ctx, req)
	if err != nil {
		return nil, err
	}
	changes, err := account.ParseChanges(req.Fields, h.now())
	if err != nil {
		return nil, err
	}
	var u *store.User
	if changes.Empty() {
		u, err = h.enabledUser(ctx, id)
	} else if u, err = h.store.UpdateProfile(ctx, id, changes, h.now()); errors.Is(err, store.ErrUserNotFound) {
		// Gone or disabled: say which.
		if _, err = h.enabledUser(ctx, id); err == nil {
			err = apierror.Bug(errors.New("profile update matched no user, yet the user is there"))
		}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": account.View(u)}, nil
}

// delete removes the account and everything keyed to it: its sessions (so
// its tokens stop working at once), its pending SMS code and its send
// records. The user goes first: from then on no token of it is accepted,
// even if removing the rest is interrupted.
func (h *handler) delete(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	gone, err := h.store.DeleteUser(ctx, u.ID)
	if errors.Is(err, store.ErrUserNotFound) {
		return nil, apierror.NotAuthenticated(err)
	} else if err != nil {
		return nil, err
	}
	cleanup := []func(context.Context) error{
		func(ctx context.Context) error { return h.sessions.EndAll(ctx, gone.ID) },
	}
	if gone.HasPhone() {
		cleanup = append(cleanup,
			func(ctx context.Context) error { return h.store.DeleteCode(ctx, gone.Phone) },
			func(ctx context.Context) error { return h.store.DeleteSends(ctx, gone.Phone) },
		)
	}
	errs := make(chan error, len(cleanup))
	for _, f := range cleanup {
		go func() { errs <- f(context.WithoutCancel(ctx)) }()
	}
	var first error
	for range cleanup {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		// The account is gone and its tokens are refused; what remains
		// expires on its own.
		logging.FromContext(ctx).Error("account deleted, some of its records remain until they expire",
			"userId", gone.ID.Hex(), "cause", first.Error())
	}
	logging.FromContext(ctx).Info("account deleted", "userId", gone.ID.Hex())
	return map[string]any{"deleted": true}, nil
}

// caller is the enabled account making the request: by access token, or
// for a wx.cloud call without one, by the openid the platform vouches for.
func (h *handler) caller(ctx context.Context, req *adapter.Request) (*store.User, error) {
	if req.AccessToken == "" && req.Caller != nil {
		return h.userByOpenID(ctx, req.Caller.OpenID)
	}
	_, u, err := h.sessions.AuthenticateUser(ctx, req.AccessToken)
	return u, err
}

// callerID is the caller's account id, with the session (not yet the
// account) checked.
func (h *handler) callerID(ctx context.Context, req *adapter.Request) (bson.ObjectID, error) {
	if req.AccessToken == "" && req.Caller != nil {
		u, err := h.userByOpenID(ctx, req.Caller.OpenID)
		if err != nil {
			return bson.ObjectID{}, err
		}
		return u.ID, nil
	}
	p, err := h.sessions.Authenticate(ctx, req.AccessToken)
	if err != nil {
		return bson.ObjectID{}, err
	}
	return p.UserID, nil
}

func (h *handler) userByOpenID(ctx context.Context, openid string) (*store.User, error) {
	u, err := h.store.UserByOpenID(ctx, openid)
	if errors.Is(err, store.ErrUserNotFound) {
		return nil, apierror.NotAuthenticated(errors.New("no account for this WeChat user"))
	}
	return enabled(u, err)
}

func (h *handler) enabledUser(ctx context.Context, id bson.ObjectID) (*store.User, error) {
	u, err := h.store.UserByID(ctx, id)
	if errors.Is(err, store.ErrUserNotFound) {
		return nil, apierror.NotAuthenticated(err)
	}
	return enabled(u, err)
}

func enabled(u *store.User, err error) (*store.User, error) {
	switch {
	case err != nil:
		return nil, err
	case u.IsDisabled():
		return nil, apierror.Disabled()
	}
	return u, nil
}
