package main

import (
	"context"
	"crypto/sha256"
	"net/http"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/session"
)

// handler renews and ends sessions, publishes the keys that verify access
// tokens and tells other services whether a token is live.
type handler struct {
	sessions *session.Service
	// jwks is GET /token/jwks's answer, made at cold start.
	jwks adapter.Document
	// introspectHash is the SHA-256 of INTROSPECT_TOKEN; nil when HTTP
	// introspection is off.
	introspectHash []byte
}

func newHandler(d *app.Deps) (app.Handler, error) {
	jwks, err := jwksDocument(d.Issuer)
	if err != nil {
		return app.Handler{}, err
	}
	h := &handler{sessions: d.Sessions, jwks: jwks}
	if len(d.Config.IntrospectToken) > 0 {
		sum := sha256.Sum256(d.Config.IntrospectToken)
		h.introspectHash = sum[:]
	}
	return app.Handler{Routes: []adapter.Route{
		{Method: http.MethodPost, Path: "/token/refresh", Action: "refresh", Handle: h.refresh},
		{Method: http.MethodPost, Path: "/token/logout", Action: "logout", Handle: h.logout},
		{Method: http.MethodGet, Path: "/token/jwks", Action: "jwks", Handle: h.publishKeys},
		{Method: http.MethodPost, Path: "/token/introspect", Action: "introspect", Handle: h.introspect},
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
