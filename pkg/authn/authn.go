package authn

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/token"
)

// Options say how to verify the login's tokens: give exactly one of
// JWKSURL, JWKS and Secret.
type Options struct {
	// JWKSURL is the login's GET /token/jwks, such as
	// https://auth.example.com/token/jwks.
	JWKSURL string
	// JWKS is a JWK Set to verify with instead of fetching one (what
	// /token/jwks answers, kept in the function's configuration).
	JWKS []byte
	// Secret is the login's JWT_SECRET, for a login that signs with HS256
	// (its default). Whoever holds it can sign a token for anyone, and it
	// also keys the login's SMS codes: prefer JWT_ALG=ES256 and JWKSURL.
	Secret []byte
	// Issuer is the login's JWT_ISSUER; "scf-auth" when empty.
	Issuer string
	// Accounts is the login's database, which AuthenticateSession reads:
	// authnstore.New(st, nil) for a *store.Store. A function that never checks
	// sessions leaves it nil, and its binary holds no database driver.
	Accounts Accounts
	// MiniPrograms are the login's mini-programs (WECHAT_APPID and the
	// miniprogram apps of WECHAT_APPS): direct invocations from them are
	// trusted to name their caller.
	MiniPrograms []string
	// HTTPClient fetches the JWK Set; a client with a 5 s timeout if nil.
	HTTPClient *http.Client
	// KeysMaxAge is how long fetched keys are used before they are
	// fetched again; 5 minutes (the max-age the login sends) if zero.
	KeysMaxAge time.Duration
	// RefetchFloor is the least time between two fetches, whatever kids
	// tokens name; 30 seconds if zero.
	RefetchFloor time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Principal is an authenticated caller.
type Principal struct {
	// UserID is the account's id, 24 hex digits: the token's subject, or
	// the account AuthenticateSession found for a wx.cloud caller; empty
	// for a wx.cloud caller under Authenticate.
	UserID string
	// SessionID is the token's session; empty for a wx.cloud caller.
	SessionID string
	// IssuedAt and ExpiresAt are the token's; zero for a wx.cloud caller.
	IssuedAt, ExpiresAt time.Time
	// WeChat is the wx.cloud caller the platform vouched for, when the
	// event came with no token; nil otherwise.
	WeChat *WeChatCaller
}

// WeChatCaller is a mini-program user the WeChat platform identified.
type WeChatCaller struct {
	AppID, OpenID, UnionID string
}

// Accounts is the login's database as AuthenticateSession reads it
// (package authnstore). Errors are *apierror.Error values.
type Accounts interface {
	// CheckSession says why the account userID has no live session
	// sessionID (UNAUTHORIZED: ended, or the account deleted;
	// ACCOUNT_DISABLED), or nil when it has; one round trip.
	CheckSession(ctx context.Context, userID, sessionID string) error
	// WeChatUser is the id of the enabled account of a WeChat user, as the
	// login's profile function finds it; UNAUTHORIZED when there is none.
	WeChatUser(ctx context.Context, wx WeChatCaller) (userID string, err error)
}

// Authenticator authenticates events. Build one at cold start and share
// it: it is safe for concurrent use, and keeps the fetched keys.
type Authenticator struct {
	verifier     *token.Verifier
	accounts     Accounts
	miniPrograms []string
}

// New returns an authenticator; its error says what is wrong with opts.
func New(opts Options) (*Authenticator, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Issuer == "" {
		opts.Issuer = "scf-auth"
	}
	keys, algs, err := keyring(opts)
	if err != nil {
		return nil, err
	}
	return &Authenticator{
		verifier:     token.NewVerifier(keys, algs, opts.Issuer, opts.Now),
		accounts:     opts.Accounts,
		miniPrograms: opts.MiniPrograms,
	}, nil
}

// keyring is the source of keys opts name, and the algorithms it verifies.
func keyring(opts Options) (token.Keyring, []token.Alg, error) {
	given := 0
	for _, set := range []bool{opts.JWKSURL != "", opts.JWKS != nil, opts.Secret != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, nil, errors.New("authn: give exactly one of Options.JWKSURL, JWKS and Secret")
	}
	asymmetric := []token.Alg{token.ES256, token.EdDSA}
	switch {
	case opts.Secret != nil:
		if len(opts.Secret) < 32 {
			return nil, nil, errors.New("authn: Options.Secret is shorter than the 32 bytes JWT_SECRET has")
		}
		return hmacKey(opts.Secret), []token.Alg{token.HS256}, nil
	case opts.JWKS != nil:
		set, err := token.ParseJWKSet(opts.JWKS)
		if err != nil {
			return nil, nil, errors.New("authn: Options.JWKS: " + err.Error())
		}
		if set.Len() == 0 {
			return nil, nil, errors.New("authn: Options.JWKS holds no ES256 or EdDSA key")
		}
		return set, asymmetric, nil
	}
	u, err := url.Parse(opts.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nil, errors.New("authn: Options.JWKSURL must be an http(s) URL such as https://auth.example.com/token/jwks")
	}
	return newRemoteKeys(opts), asymmetric, nil
}

// hmacKey is the login's JWT_SECRET, for HS256 tokens only.
type hmacKey []byte

func (k hmacKey) VerificationKey(_ context.Context, alg, _ string) (any, error) {
	if alg != string(token.HS256) {
		return nil, token.ErrUnknownKey
	}
	return []byte(k), nil
}

// Authenticate authenticates the caller of an event (its payload as the
// function received it, with the invocation's ctx) by its access token's
// signature and expiry, or as a trusted wx.cloud caller. No database
// round trip: a token stays good until it expires, even after a logout.
func (a *Authenticator) Authenticate(ctx context.Context, event []byte) (*Principal, error) {
	return a.authenticate(ctx, event, false)
}

// AuthenticateSession is Authenticate, and also checks the token's session
// (live, its account neither deleted nor disabled) in one round trip, or
// finds the account of a wx.cloud caller (its identity's claim, then the
// account). It needs Options.Accounts.
func (a *Authenticator) AuthenticateSession(ctx context.Context, event []byte) (*Principal, error) {
	return a.authenticate(ctx, event, true)
}

func (a *Authenticator) authenticate(ctx context.Context, event []byte, withSession bool) (*Principal, error) {
	if withSession && a.accounts == nil {
		return nil, apierror.Bug(errors.New("authn: AuthenticateSession needs Options.Accounts"))
	}
	req, err := adapter.ParseHead(ctx, event, a.miniPrograms)
	if err != nil {
		return nil, apierror.As(err)
	}
	switch {
	case req.AccessToken != "":
		p, err := a.VerifyToken(ctx, req.AccessToken)
		if err != nil || !withSession {
			return p, err
		}
		if err := a.accounts.CheckSession(ctx, p.UserID, p.SessionID); err != nil {
			return nil, apierror.As(err)
		}
		return p, nil
	case req.Caller != nil:
		p := &Principal{WeChat: &WeChatCaller{AppID: req.Caller.AppID, OpenID: req.Caller.OpenID, UnionID: req.Caller.UnionID}}
		if !withSession {
			return p, nil
		}
		if p.UserID, err = a.accounts.WeChatUser(ctx, *p.WeChat); err != nil {
			return nil, apierror.As(err)
		}
		return p, nil
	}
	return nil, apierror.NotAuthenticated(errors.New("authn: no access token and no trusted wx.cloud caller"))
}

// VerifyToken checks an access token's signature and expiry, for a token
// that came some other way than in an event.
func (a *Authenticator) VerifyToken(ctx context.Context, accessToken string) (*Principal, error) {
	claims, err := a.verifier.Verify(ctx, accessToken)
	switch {
	case errors.Is(err, token.ErrExpired):
		return nil, apierror.Expired()
	case errors.Is(err, token.ErrInvalid):
		return nil, apierror.NotAuthenticated(err)
	case err != nil:
		return nil, apierror.Unavailable(err)
	}
	if !token.IsUserID(claims.Subject) {
		return nil, apierror.NotAuthenticated(errors.New("authn: sub is not a user id"))
	}
	p := &Principal{UserID: claims.Subject, SessionID: claims.SessionID}
	if claims.IssuedAt != nil {
		p.IssuedAt = claims.IssuedAt.Time
	}
	p.ExpiresAt = claims.ExpiresAt.Time // the verifier requires exp
	return p, nil
}
