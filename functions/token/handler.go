package main

import (
	"context"
	"net/http"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/session"
)

// handler renews and ends sessions.
type handler struct {
	sessions *session.Service
}

func newHandler(d *app.Deps) (app.Handler, error) {
	h := &handler{sessions: d.Sessions}
	return app.Handler{Routes: []adapter.Route{
		{Method: http.MethodPost, Path: "/token/refresh", Action: "refresh", Handle: h.refresh},
		{Method: http.MethodPost, Path: "/token/logout", Action: "logout", Handle: h.logout},
	}}, nil
}

// refresh exchanges a refresh token for a new session pair.
func (h *handler) refresh(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only("refreshToken"); err != nil {
		return nil, err
	}
	raw, err := req.Fields.RequiredString("refreshToken")
	if err != nil {
		return nil, err
	}
	return h.sessions.Refresh(ctx, raw)
}

// logout ends the caller's session, or with "all": true every session of
// the caller's account; their access tokens are refused at once.
func (h *handler) logout(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only("all"); err != nil {
		return nil, err
	}
	all, _, err := req.Fields.Bool("all")
	if err != nil {
		return nil, err
	}
	if err := h.sessions.Logout(ctx, req.AccessToken, all); err != nil {
		return nil, err
	}
	return map[string]any{"loggedOut": true}, nil
}
