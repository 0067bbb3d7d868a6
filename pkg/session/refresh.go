package session

import (
	"context"
	"errors"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
)

// rotationClaimLife is how long a rotation claim is kept beyond the grace
// window; it only has to outlive the requests racing for it.
const rotationClaimLife = time.Minute

// Refresh rotates a refresh token (API.md §4). The current token of a live
// session is exchanged for the next generation. The token just spent is
// answered with that same next generation for the grace window after the
// rotation; later, or for any older genuine token, the whole session is
// revoked. A token that is not of this session's chain is refused without
// touching the session, so guessing cannot log anyone out.
func (s *Service) Refresh(ctx context.Context, raw string) (*Session, error) {
	rt, err := token.ParseRefresh(raw)
	if err != nil {
		return nil, apierror.BadRefreshToken(err)
	}
	now := s.clock()
	head, err := s.store.SessionByID(ctx, rt.SessionID, now)
	if errors.Is(err, store.ErrSessionNotFound) {
		return nil, apierror.BadRefreshToken(err)
	} else if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, head.UserID)
	switch {
	case errors.Is(err, store.ErrUserNotFound):
		return nil, apierror.BadRefreshToken(err)
	case err != nil:
		return nil, err
	case u.IsDisabled():
		return nil, apierror.Disabled()
	}

	hash := token.HashSecret(rt.Secret)
	switch {
	case rt.Gen == head.Gen && equalHash(hash, head.TokenHash):
		return s.rotate(ctx, head, u, rt, now)
	case rt.Gen == head.Gen-1 && equalHash(hash, head.PrevHash):
		if now.Sub(head.RotatedAt) <= s.grace {
			return s.answer(u, head.ID, head.Gen, s.rotator.Next(rt.Secret), head.RotatedAt, head.ExpiresAt, false)
		}
		return nil, s.revoke(ctx, head, "spent refresh token reused after the grace window")
	case rt.Gen < head.Gen && s.rotator.Descends(rt.Secret, head.Gen-rt.Gen, head.TokenHash):
		return nil, s.revoke(ctx, head, "old refresh token reused")
	}
	return nil, apierror.BadRefreshToken(errors.New("refresh token not of this session"))
}

// rotate moves the session to the next generation. The claim of that
// generation decides the one request that does it; the others answer what
// it issued, if within the grace window.
func (s *Service) rotate(ctx context.Context, head *store.Session, u *store.User, rt token.Refresh, now time.Time) (*Session, error) {
	next := s.rotator.Next(rt.Secret)
	nextGen := rt.Gen + 1
	at := now
	_, err := s.store.ClaimRotation(ctx, head.ID, nextGen, at, at.Add(s.grace+rotationClaimLife))
	if errors.Is(err, store.ErrDuplicate) {
		claim, err := s.store.RotationOf(ctx, head.ID, nextGen)
		if err != nil {
			return nil, err
		}
		if now.Sub(claim.At) <= s.grace {
			return s.answer(u, head.ID, nextGen, next, claim.At, claim.At.Add(s.refreshTTL), false)
		}
		// The claim is old, yet the session had not moved when we read it:
		// whoever claimed it failed before finishing (a timeout, a crash).
		// Finish the rotation now rather than punish the token's holder.
	} else if err != nil {
		return nil, err
	}
	advanced := &store.Session{
		ID: head.ID, Gen: nextGen,
		TokenHash: token.HashSecret(next), PrevHash: token.HashSecret(rt.Secret),
		RotatedAt: at, ExpiresAt: at.Add(s.refreshTTL),
	}
	if err := s.store.AdvanceSession(ctx, advanced); errors.Is(err, store.ErrSessionNotFound) {
		return nil, apierror.BadRefreshToken(errors.New("session ended during refresh"))
	} else if err != nil {
		return nil, err
	}
	return s.answer(u, head.ID, nextGen, next, at, advanced.ExpiresAt, false)
}
