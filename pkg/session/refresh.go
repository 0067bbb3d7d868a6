package session

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
)

// Refresh rotates a refresh token (API.md §4) in two round trips: read
// the account (with its sessions), then move the session to the next
// generation by a conditional update, which of concurrent refreshes of one
// token exactly one wins. The token just spent is answered with that same
// next generation for the grace window after the rotation; later, or for
// any older genuine token, the whole session is revoked. A token that is
// not of this session's chain is refused without touching the session, so
// guessing cannot log anyone out.
func (s *Service) Refresh(ctx context.Context, raw string) (*Session, error) {
	rt, err := token.ParseRefresh(raw)
	if err != nil {
		return nil, apierror.BadRefreshToken(err)
	}
	userID, err := s.owner(ctx, rt)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		u, sess, err := s.sessionOf(ctx, userID, rt.SessionID)
		if err != nil {
			return nil, err
		}
		answer, lost, err := s.refresh(ctx, u, sess, rt)
		switch {
		case !lost:
			return answer, err
		case attempt > 0:
			return nil, apierror.BadRefreshToken(errors.New("session kept changing during the refresh"))
		}
		// Another refresh of this token rotated it first: read what it
		// stored, and answer the same.
	}
}

// owner is the account of a refresh token; for a token from before the
// upgrade, the one the upgrade recorded.
func (s *Service) owner(ctx context.Context, rt token.Refresh) (bson.ObjectID, error) {
	if rt.UserID != "" {
		id, err := bson.ObjectIDFromHex(rt.UserID)
		if err != nil {
			return id, apierror.BadRefreshToken(err)
		}
		return id, nil
	}
	id, err := s.store.LegacySessionOwner(ctx, rt.SessionID, s.now())
	if errors.Is(err, store.ErrSessionNotFound) {
		return id, apierror.BadRefreshToken(err)
	}
	return id, err
}

// sessionOf reads the account and its session sid, refusing what cannot
// be refreshed.
func (s *Service) sessionOf(ctx context.Context, userID bson.ObjectID, sid string) (*store.User, store.Session, error) {
	u, err := s.store.UserByID(ctx, userID)
	switch {
	case errors.Is(err, store.ErrUserNotFound):
		return nil, store.Session{}, apierror.BadRefreshToken(err)
	case err != nil:
		return nil, store.Session{}, err
	}
	sess, ok := u.LiveSession(sid, s.clock())
	switch {
	case !ok:
		return nil, store.Session{}, apierror.BadRefreshToken(errors.New("session ended or expired"))
	case u.IsDisabled():
		return nil, store.Session{}, apierror.Disabled()
	}
	return u, sess, nil
}

// refresh judges the token against the session as read. lost reports that
// a concurrent refresh changed the session first.
func (s *Service) refresh(ctx context.Context, u *store.User, sess store.Session, rt token.Refresh) (answer *Session, lost bool, err error) {
	now := s.clock()
	hash := token.HashSecret(rt.Secret)
	switch {
	case rt.Gen == sess.Gen && equalHash(hash, sess.TokenHash):
		next := s.rotator.Next(rt.Secret)
		advanced := sess
		advanced.Gen, advanced.TokenHash, advanced.PrevHash = rt.Gen+1, token.HashSecret(next), hash
		advanced.RotatedAt, advanced.ExpiresAt = now, now.Add(s.refreshTTL)
		won, err := s.store.RotateSession(ctx, u.ID, rt.SessionID, sess.Gen, advanced, u.StaleSessions(now, rt.SessionID))
		if err != nil || !won {
			return nil, !won, err
		}
		answer, err := s.answer(u, rt.SessionID, advanced.Gen, next, now, advanced.ExpiresAt, false)
		return answer, false, err
	case rt.Gen == sess.Gen-1 && equalHash(hash, sess.PrevHash):
		if now.Sub(sess.RotatedAt) <= s.grace {
			answer, err := s.answer(u, rt.SessionID, sess.Gen, s.rotator.Next(rt.Secret), sess.RotatedAt, sess.ExpiresAt, false)
			return answer, false, err
		}
		return nil, false, s.revokeReused(ctx, u, rt.SessionID, sess, "spent refresh token reused after the grace window")
	case rt.Gen < sess.Gen && s.rotator.Descends(rt.Secret, sess.Gen-rt.Gen, sess.TokenHash):
		return nil, false, s.revokeReused(ctx, u, rt.SessionID, sess, "old refresh token reused")
	}
	return nil, false, apierror.BadRefreshToken(errors.New("refresh token not of this session"))
}
