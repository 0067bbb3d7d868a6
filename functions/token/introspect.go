package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
)

// introspection is the answer of POST /token/introspect: RFC 7662's core
// fields. An inactive token gets "active": false alone, as RFC 7662 §2.2
// asks, so that nothing is told about a token that does not work.
type introspection struct {
	Active    bool   `json:"active"`
	Subject   string `json:"sub,omitempty"`
	SessionID string `json:"sid,omitempty"`
	ExpiresAt int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
}

// introspect tells whether an access token works right now: genuine, not
// expired, its session live (not logged out, not revoked for reuse, its
// account neither deleted nor disabled). One round trip, the account's
// read; none for a token that fails its signature or expiry. Over HTTP
// the caller shows INTROSPECT_TOKEN as its bearer token; a direct
// invocation is allowed by SCF's own permissions and needs none.
func (h *handler) introspect(ctx context.Context, req *adapter.Request) (any, error) {
	if req.Kind != adapter.Direct {
		if err := h.authorizeIntrospection(req.AccessToken); err != nil {
			return nil, err
		}
	}
	if err := req.Fields.Only("token"); err != nil {
		return nil, err
	}
	raw, err := req.Fields.RequiredString("token")
	if err != nil {
		return nil, err
	}
	p, _, err := h.sessions.Authenticate(ctx, raw)
	if err != nil {
		var refusal *apierror.Error
		if errors.As(err, &refusal) {
			switch refusal.Code {
			case apierror.Unauthorized, apierror.TokenExpired, apierror.AccountDisabled:
				logging.FromContext(ctx).Info("introspected token is inactive", "reason", refusal.Error())
				return introspection{Active: false}, nil
			}
		}
		return nil, err // the store could not answer: not a verdict on the token
	}
	return introspection{
		Active: true, Subject: p.UserID.Hex(), SessionID: p.SessionID,
		ExpiresAt: p.ExpiresAt.Unix(), IssuedAt: p.IssuedAt.Unix(),
	}, nil
}

// authorizeIntrospection checks the bearer token of an HTTP introspection
// against INTROSPECT_TOKEN in constant time: both are hashed first, so
// that not even the length is compared.
func (h *handler) authorizeIntrospection(bearer string) error {
	if h.introspectHash == nil {
		return apierror.NotAuthenticated(errors.New("HTTP introspection is off: INTROSPECT_TOKEN is unset"))
	}
	got := sha256.Sum256([]byte(bearer))
	if subtle.ConstantTimeCompare(got[:], h.introspectHash) != 1 {
		return apierror.NotAuthenticated(errors.New("introspection without the INTROSPECT_TOKEN bearer token"))
	}
	return nil
}
