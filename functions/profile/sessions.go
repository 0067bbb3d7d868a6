package main

import (
	"context"
	"time"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/session"
)

// listSessions answers the account's live sessions, newest first, the
// request's own marked current: one round trip with a token, the read
// that authenticates it.
func (h *handler) listSessions(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, sid, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	return map[string]any{"sessions": h.sessions.List(u, sid)}, nil
}

// revokeSession ends one session of the account, named by the path
// (DELETE /profile/sessions/{id}) or by sessionId (direct invocation):
// its access and refresh tokens are refused at once. A session that has
// ended already is no longer there to end, which is what was asked.
func (h *handler) revokeSession(ctx context.Context, req *adapter.Request) (any, error) {
	id := req.PathValue
	if id == "" {
		if err := req.Fields.Only("sessionId"); err != nil {
			return nil, err
		}
		var err error
		if id, err = req.Fields.RequiredString("sessionId"); err != nil {
			return nil, err
		}
	} else if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	if !isSessionID(id) {
		return nil, apierror.BadField("sessionId", "is not a session id")
	}
	u, _, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	if _, err := h.sessions.Revoke(ctx, u, id); err != nil {
		return nil, err
	}
	return map[string]any{"revoked": true}, nil
}

// isSessionID reports whether s has the shape of a session id (base64url),
// which is also what makes it safe as a field name of the account
// document: no '.', no '$'.
func isSessionID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// event is a security event as the account's owner sees it (API.md §4).
type event struct {
	Type   string `json:"type"`
	At     string `json:"at"`
	Method string `json:"method,omitempty"`
	Client string `json:"client,omitempty"`
}

// security answers the account's last security events, newest first: one
// round trip with a token, as they are kept in the account's document.
func (h *handler) security(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	u, _, err := h.caller(ctx, req)
	if err != nil {
		return nil, err
	}
	events := []event{}
	for _, e := range u.RecentEvents() {
		events = append(events, event{Type: e.Type, At: e.At.UTC().Format(time.RFC3339), Method: session.PublicMethod(e.Method), Client: e.Client})
	}
	return map[string]any{"events": events}, nil
}
