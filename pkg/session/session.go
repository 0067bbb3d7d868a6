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

// Login methods recorded on sessions and their events (API.md §4).
const (
	MethodSMS         = "sms"
	MethodWeChat      = "wechat"
	MethodPhoneNumber = "phone-number"
)

// legacyPhoneNumber is what sessions made before this version recorded
// for phone-number-login; they read as MethodPhoneNumber.
const legacyPhoneNumber = "wechat-phone"

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

// Begin prepares the session of a login: its id, its refresh secret and
// what the account document keeps of it, with how it signs in (method) and
// the client of the request (ctx's origin, store.WithOrigin). The account
// resolution stores it in the account it logs into (account.Resolver), and
// Answer then tells the client.
func (s *Service) Begin(ctx context.Context, method string) *account.NewSession {
	now := s.clock()
	secret := token.NewSecret()
	return &account.NewSession{
		ID:     token.NewSessionID(),
		Secret: secret,
		Record: store.Session{
			TokenHash: token.HashSecret(secret), Method: method, Client: store.OriginFrom(ctx).Client,
			CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(s.refreshTTL),
		},
	}
}

// Answer is the Session answer of a login into u with the session begun.
func (s *Service) Answer(u *store.User, ns *account.NewSession, isNew bool) (*Session, error) {
	return s.answer(u, ns.ID, 0, ns.Secret, ns.Record.RotatedAt, ns.Record.ExpiresAt, isNew)
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    bson.ObjectID
	SessionID string
	// IssuedAt and ExpiresAt are the access token's iat and exp.
	IssuedAt, ExpiresAt time.Time
}

// Verify checks an access token's signature and claims, without the
// database: the caller checks its session in the same round trip as its
// own work (a profile update does).
func (s *Service) Verify(accessToken string) (*Principal, error) {
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
	p := &Principal{UserID: userID, SessionID: claims.SessionID}
	if claims.IssuedAt != nil {
		p.IssuedAt = claims.IssuedAt.Time
	}
	if claims.ExpiresAt != nil {
		p.ExpiresAt = claims.ExpiresAt.Time
	}
	return p, nil
}

// Authenticate checks an access token and returns its enabled account, in
// one round trip: the session lives in the account document.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*Principal, *store.User, error) {
	p, err := s.Verify(accessToken)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil && !errors.Is(err, store.ErrUserNotFound) {
		return nil, nil, err
	}
	if err := s.CheckSession(u, p); err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

// CheckSession says why u (as read, nil when missing) does not let p in,
// or nil when it does.
func (s *Service) CheckSession(u *store.User, p *Principal) error {
	return CheckLive(u, p.SessionID, s.now())
}

// CheckLive says why u (as read, nil when missing) has no live session
// sid at now that lets its caller in, or nil when it has: the one rule of
// every check of a token's session, here and in the team's own functions
// (package authn).
func CheckLive(u *store.User, sid string, now time.Time) error {
	switch {
	case u == nil || u.IsDeleted():
		return apierror.NotAuthenticated(errors.New("no such account"))
	case !has(u, sid, now):
		return apierror.NotAuthenticated(errors.New("session ended"))
	case u.IsDisabled():
		return apierror.Disabled()
	}
	return nil
}

func has(u *store.User, sid string, now time.Time) bool {
	_, ok := u.LiveSession(sid, now)
	return ok
}

// Logout ends the token's session, in one round trip, or with all every
// session of its account, in two: the audit entry of the logout-all, then
// the update that ends them and records it among the account's events. A
// token whose session already ended is refused and ends nothing. It works
// for a disabled account too.
func (s *Service) Logout(ctx context.Context, accessToken string, all bool) error {
	p, err := s.Verify(accessToken)
	if err != nil {
		return err
	}
	var ended bool
	if all {
		ended, err = s.store.EndAllSessions(ctx, p.UserID, p.SessionID, s.now())
	} else {
		ended, err = s.store.RemoveSessions(ctx, p.UserID, p.SessionID)
	}
	if err != nil {
		return err
	}
	if !ended {
		return apierror.NotAuthenticated(errors.New("session already ended"))
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
		RefreshToken:     token.Refresh{UserID: u.ID.Hex(), SessionID: sessionID, Gen: gen, Secret: secret}.String(),
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

// revokeReused ends the session sess (sid) of u because a spent refresh
// token of it came back, recording a refresh-reuse event.
func (s *Service) revokeReused(ctx context.Context, u *store.User, sid string, sess store.Session, why string) error {
	logging.FromContext(ctx).Warn("session revoked: "+why, "sessionId", sid, "userId", u.ID.Hex())
	if _, err := s.store.RevokeSession(ctx, u.ID, sid, sess, store.EventRefreshReuse, s.now()); err != nil {
		return err
	}
	return apierror.BadRefreshToken(errors.New(why))
}
