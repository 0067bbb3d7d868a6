package session

import (
	"context"
	"crypto/hmac"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
)

// Session is the answer of every login and of a refresh (API.md §3).
type Session struct {
	AccessToken      string       `json:"accessToken"`
	TokenType        string       `json:"tokenType"`
	ExpiresIn        int          `json:"expiresIn"`
	RefreshToken     string       `json:"refreshToken"`
	RefreshExpiresIn int          `json:"refreshExpiresIn"`
	IsNewUser        bool         `json:"isNewUser"`
	User             account.User `json:"user"`
}

// Login methods recorded on sessions, for operators.
const (
	MethodSMS         = "sms"
	MethodWeChat      = "wechat"
	MethodPhoneNumber = "wechat-phone"
)

// Service issues, checks, rotates and ends sessions.
type Service struct {
	store      *store.Store
	issuer     *token.Issuer
	rotator    *token.Rotator
	refreshTTL time.Duration
	grace      time.Duration
	now        func() time.Time
}

// New returns a session service.
func New(s *store.Store, issuer *token.Issuer, rotator *token.Rotator, refreshTTL, grace time.Duration, now func() time.Time) *Service {
	return &Service{store: s, issuer: issuer, rotator: rotator, refreshTTL: refreshTTL, grace: grace, now: now}
}

// Issue starts a session for u after a login. A disabled account is
// refused here, for every way of logging in.
func (s *Service) Issue(ctx context.Context, u *store.User, method string, isNew bool) (*Session, error) {
	if u.IsDisabled() {
		return nil, apierror.Disabled()
	}
	now := s.clock()
	secret := token.NewSecret()
	head := &store.Session{
		ID: token.NewSessionID(), UserID: u.ID, Method: method,
		TokenHash: token.HashSecret(secret),
		CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(s.refreshTTL),
	}
	if err := s.store.CreateSession(ctx, head); err != nil {
		return nil, err
	}
	return s.answer(u, head.ID, 0, secret, now, head.ExpiresAt, isNew)
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    bson.ObjectID
	SessionID string
}

// Authenticate checks an access token and that its session is live.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	p, err := s.verify(accessToken)
	if err != nil {
		return nil, err
	}
	if err := s.checkSession(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// AuthenticateUser checks an access token and returns its enabled user. It
// reads the session and the user concurrently: one round trip of latency.
func (s *Service) AuthenticateUser(ctx context.Context, accessToken string) (*Principal, *store.User, error) {
	p, err := s.verify(accessToken)
	if err != nil {
		return nil, nil, err
	}
	sessionErr := make(chan error, 1)
	go func() { sessionErr <- s.checkSession(ctx, p) }()
	u, userErr := s.store.UserByID(ctx, p.UserID)
	if err := <-sessionErr; err != nil {
		return nil, nil, err
	}
	switch {
	case errors.Is(userErr, store.ErrUserNotFound):
		return nil, nil, apierror.NotAuthenticated(userErr)
	case userErr != nil:
		return nil, nil, userErr
	case u.IsDisabled():
		return nil, nil, apierror.Disabled()
	}
	return p, u, nil
}

// Logout ends the token's session, or with all every session of its user.
func (s *Service) Logout(ctx context.Context, accessToken string, all bool) error {
	p, err := s.verify(accessToken)
	if err != nil {
		return err
	}
	ended, err := s.store.DeleteSession(ctx, p.SessionID)
	if err != nil {
		return err
	}
	if !ended {
		return apierror.NotAuthenticated(errors.New("session already ended"))
	}
	if all {
		_, err = s.store.DeleteUserSessions(ctx, p.UserID)
	}
	return err
}

// EndAll ends every session of a user, as when the account is deleted.
func (s *Service) EndAll(ctx context.Context, userID bson.ObjectID) error {
	_, err := s.store.DeleteUserSessions(ctx, userID)
	return err
}

func (s *Service) verify(accessToken string) (*Principal, error) {
	claims, err := s.issuer.Verify(accessToken)
	switch {
	case errors.Is(err, token.ErrExpired):
		return nil, apierror.Expired()
	case err != nil:
		return nil, apierror.NotAuthenticated(err)
	}
	userID, err := bson.ObjectIDFromHex(claims.Subject)
	if err != nil {
		return nil, apierror.NotAuthenticated(errors.New("sub is not a user id"))
	}
	return &Principal{UserID: userID, SessionID: claims.SessionID}, nil
}

func (s *Service) checkSession(ctx context.Context, p *Principal) error {
	head, err := s.store.SessionByID(ctx, p.SessionID, s.now())
	switch {
	case errors.Is(err, store.ErrSessionNotFound):
		return apierror.NotAuthenticated(errors.New("session ended"))
	case err != nil:
		return err
	case head.UserID != p.UserID:
		return apierror.NotAuthenticated(errors.New("session of another user"))
	}
	return nil
}

// answer builds the Session answer for generation gen issued at issuedAt.
// Everything in it derives from its arguments, so two requests answering
// the same rotation answer the same tokens.
func (s *Service) answer(u *store.User, sessionID string, gen int, secret []byte, issuedAt, expiresAt time.Time, isNew bool) (*Session, error) {
	access, err := s.issuer.Sign(u.ID.Hex(), sessionID, issuedAt)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &Session{
		AccessToken:      access,
		TokenType:        "Bearer",
		ExpiresIn:        wholeSeconds(issuedAt.Add(s.issuer.TTL()).Sub(now)),
		RefreshToken:     token.Refresh{SessionID: sessionID, Gen: gen, Secret: secret}.String(),
		RefreshExpiresIn: wholeSeconds(expiresAt.Sub(now)),
		IsNewUser:        isNew,
		User:             account.View(u),
	}, nil
}

// wholeSeconds rounds a remaining lifetime to the nearest second, never
// below zero: a token issued now for 2h says 7200, not 7199.
func wholeSeconds(d time.Duration) int { return max(0, int(d.Round(time.Second).Seconds())) }

// clock is now as the store keeps it (milliseconds).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func equalHash(a, b []byte) bool { return len(a) > 0 && hmac.Equal(a, b) }

func (s *Service) revoke(ctx context.Context, head *store.Session, why string) error {
	logging.FromContext(ctx).Warn("session revoked: "+why, "sessionId", head.ID, "userId", head.UserID.Hex())
	if _, err := s.store.DeleteSession(ctx, head.ID); err != nil {
		return err
	}
	return apierror.BadRefreshToken(errors.New(why))
}
