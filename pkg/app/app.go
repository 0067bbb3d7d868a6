// Package app builds what every function shares, once per cold start, and
// turns a function's routes into the handler the SCF runtime calls. Mains
// stay a few lines: name the function, say how to build its routes.
package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
)

// Deps are the shared dependencies of the handlers.
type Deps struct {
	Config *config.Config
	Logger *slog.Logger
	Store  *store.Store
	// Issuer signs and verifies access tokens (JWT_ALG); Sessions uses it.
	Issuer   *token.Issuer
	Sessions *session.Service
	Accounts *account.Resolver
	// SMSKeys key the SMS state of phones and clients.
	SMSKeys smscode.Keys
	// CodeHasher hashes SMS codes; Codes uses them up.
	CodeHasher *otp.Hasher
	Codes      *smscode.Checker
	Now        func() time.Time
	Getenv     func(string) string
}

// Handler is what a function contributes: its routes, and the action of a
// direct invocation that names none ("" when one must be named).
type Handler struct {
	Routes        []adapter.Route
	DefaultAction string
}

// Options are where a function reads its environment and writes its logs,
// and its clock; the zero value means the process's own.
type Options struct {
	Getenv func(string) string
	Stdout io.Writer
	Now    func() time.Time
}

// Run serves the function over the SCF Go runtime protocol. It never returns.
func Run(name string, build func(*Deps) (Handler, error)) {
	cloudfunction.StartHandler(New(name, Options{}, build))
}

// New builds the function: configuration, logger, store client and the
// function's handler. A failure at any step still yields a function, one
// that answers INTERNAL and logs the cause (naming the variable for a
// configuration error) on every request, as a crash at cold start would
// leave the caller with nothing to go on.
func New(name string, opts Options, build func(*Deps) (Handler, error)) *adapter.Function {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &adapter.Function{Name: name, Now: opts.Now, Logger: logging.New(opts.Stdout, "info", name)}
	deps, err := load(name, opts)
	if err == nil {
		f.Logger = deps.Logger
		f.MiniPrograms, f.CORSOrigins = deps.Config.MiniPrograms(), deps.Config.CORSOrigins
		var h Handler
		if h, err = build(deps); err == nil {
			f.Routes, f.DefaultAction = withOrigin(h.Routes), h.DefaultAction
		}
	}
	if err != nil {
		f.Broken = err
		f.Logger.Error("function cannot serve: fix the configuration and redeploy", "cause", err.Error())
	}
	return f
}

func load(name string, opts Options) (*Deps, error) {
	cfg, err := config.Load(opts.Getenv)
	if err != nil {
		return nil, err
	}
	logger := logging.New(opts.Stdout, cfg.LogLevel, name)
	st, err := store.Connect(cfg.MongoURI, cfg.MongoDatabase, "scf-auth/"+name, store.KeepAuditFor(cfg.AuditRetention))
	var weak *store.WeakURIError
	if errors.As(err, &weak) {
		return nil, &config.Error{Var: "MONGODB_URI", Reason: weak.Error()}
	}
	if err != nil {
		// The driver's message may quote the URI, password included: not logged.
		return nil, &config.Error{Var: "MONGODB_URI", Reason: "is not a valid connection string (check scheme, hosts, options and escaping)"}
	}
	now := opts.Now
	keys, hasher := SMSKeys(cfg), CodeHasher(cfg)
	issuer := Issuer(cfg, now)
	return &Deps{
		Config:     cfg,
		Logger:     logger,
		Store:      st,
		Issuer:     issuer,
		Sessions:   sessions(cfg, st, issuer, now),
		Accounts:   account.NewResolver(st, now),
		SMSKeys:    keys,
		CodeHasher: hasher,
		Codes:      smscode.NewChecker(st, keys, hasher, cfg.SMSMaxAttempts, now),
		Now:        now,
		Getenv:     opts.Getenv,
	}, nil
}

// withOrigin makes every route's handler run with the request's origin in
// its ctx (store.WithOrigin): the client the sessions and security events
// it records are stamped with.
func withOrigin(routes []adapter.Route) []adapter.Route {
	out := make([]adapter.Route, len(routes))
	for i, r := range routes {
		handle := r.Handle
		r.Handle = func(ctx context.Context, req *adapter.Request) (any, error) {
			return handle(store.WithOrigin(ctx, store.Origin{Client: session.DescribeClient(req)}), req)
		}
		out[i] = r
	}
	return out
}

// Sessions is the session service the configuration describes.
func Sessions(cfg *config.Config, st *store.Store, now func() time.Time) *session.Service {
	return sessions(cfg, st, Issuer(cfg, now), now)
}

func sessions(cfg *config.Config, st *store.Store, issuer *token.Issuer, now func() time.Time) *session.Service {
	rotator := token.NewRotator(token.DeriveKey(cfg.JWTSecret, "refresh-rotation"))
	return session.New(st, issuer, rotator, cfg.RefreshTokenTTL, cfg.RefreshReuseGrace, now)
}

// Issuer is the access-token issuer the configuration describes: HS256
// with JWT_SECRET, or ES256 or EdDSA with JWT_SIGNING_KEYS (JWT_SECRET
// then only recognises the HS256 tokens it signed before the change).
func Issuer(cfg *config.Config, now func() time.Time) *token.Issuer {
	return token.NewIssuer(cfg.JWTSecret, cfg.JWTIssuer, cfg.AccessTokenTTL, now, token.WithSigningKeys(cfg.JWTSigningKeys))
}

// CodeHasher hashes SMS codes under a key of their own.
func CodeHasher(cfg *config.Config) *otp.Hasher {
	return otp.NewHasher(token.DeriveKey(cfg.JWTSecret, "sms-code"))
}

// SMSKeys are the keys of the SMS state, under a key of their own.
func SMSKeys(cfg *config.Config) smscode.Keys {
	return smscode.NewKeys(token.DeriveKey(cfg.JWTSecret, "sms-keys"))
}

// Close releases the store client; tests and tools use it, functions never
// need to.
func (d *Deps) Close() { _ = d.Store.Close(context.Background()) }
