package session

import (
	"context"
	"sort"
	"time"

	"github.com/wxauth/scf-auth/pkg/store"
)

// Listed is one live session as its account's owner sees it (API.md §4,
// GET /profile/sessions). LastUsedAt is its last sign-in or refresh: a
// request with an access token is not recorded, which would cost a write
// per request, so it is exact to within an access token's lifetime.
type Listed struct {
	ID         string `json:"id"`
	Current    bool   `json:"current"`
	Method     string `json:"method"`
	Client     string `json:"client"`
	CreatedAt  string `json:"createdAt"`
	LastUsedAt string `json:"lastUsedAt"`
}

// List is the live sessions of u, newest sign-in first; current is the
// session of the request ("" for a wx.cloud caller without a token).
func (s *Service) List(u *store.User, current string) []Listed {
	now := s.clock()
	out := []Listed{}
	for id := range u.Sessions {
		sess, ok := u.LiveSession(id, now)
		if !ok {
			continue
		}
		out = append(out, Listed{
			ID: id, Current: id == current, Method: PublicMethod(sess.Method), Client: sess.Client,
			CreatedAt: sess.CreatedAt.UTC().Format(time.RFC3339), LastUsedAt: sess.RotatedAt.UTC().Format(time.RFC3339),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := u.Sessions[out[i].ID], u.Sessions[out[j].ID]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// PublicMethod is the method a session or event says it signed in with.
func PublicMethod(method string) string {
	if method == legacyPhoneNumber {
		return MethodPhoneNumber
	}
	return method
}

// Revoke ends the session sid of the account u (as read) on its owner's
// request, recording a session-revoked event: its tokens are refused at
// once, its refresh token too. It reports false when sid is not a live
// session of u, so there was nothing to end.
func (s *Service) Revoke(ctx context.Context, u *store.User, sid string) (bool, error) {
	sess, ok := u.LiveSession(sid, s.clock())
	if !ok {
		return false, nil
	}
	return s.store.RevokeSession(ctx, u.ID, sid, sess, store.EventSessionRevoked, s.now())
}

// SignedInWithin reports whether the session sid of u signed in (a login,
// not a refresh) less than window ago.
func (s *Service) SignedInWithin(u *store.User, sid string, window time.Duration) bool {
	sess, ok := u.LiveSession(sid, s.clock())
	return ok && window > 0 && s.clock().Sub(sess.CreatedAt) < window
}
