package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/authn"
	"github.com/wxauth/scf-auth/pkg/authn/authnstore"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/roundtrip"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

// login is a deployment of the login signing with ES256, and its JWK Set
// served over HTTP as GET /token/jwks serves it.
type login struct {
	env  *functest.Env
	jwks *jwksServer
}

func newLogin(t *testing.T, keys ...string) *login {
	t.Helper()
	env := functest.New(t)
	l := &login{env: env, jwks: newJWKSServer(t)}
	l.sign(t, keys...)
	return l
}

// sign changes the deployment's JWT_SIGNING_KEYS (fresh ES256 keys when
// none are given) and what its JWK Set says.
func (l *login) sign(t *testing.T, keys ...string) {
	t.Helper()
	if len(keys) == 0 {
		k, _ := tokentest.PEM(t, token.ES256)
		keys = []string{k}
	}
	l.env.Vars["JWT_ALG"] = "ES256"
	l.env.Vars["JWT_SIGNING_KEYS"] = strings.Join(keys, "")
	cfg, err := config.Load(func(k string) string { return l.env.Vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(app.Issuer(cfg, l.env.Clock.Now).JWKS())
	l.jwks.body.Store(&body)
}

// authenticator verifies with the login's JWK Set URL and reads its store.
func (l *login) authenticator(t *testing.T, mutate ...func(*authn.Options)) *authn.Authenticator {
	t.Helper()
	opts := authn.Options{
		JWKSURL: l.jwks.URL + "/token/jwks", Accounts: authnstore.New(l.env.Store, l.env.Clock.Now),
		MiniPrograms: []string{functest.AppID}, Now: l.env.Clock.Now,
	}
	for _, m := range mutate {
		m(&opts)
	}
	a, err := authn.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// jwksServer answers GET /token/jwks with body, counting requests; while
// failing is set it answers 503.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	fetches atomic.Int32
	failing atomic.Bool
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/token/jwks" {
			http.NotFound(w, r)
			return
		}
		s.fetches.Add(1)
		if s.failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// sample reads one of Tencent's event samples (../shared/events).
func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "events", name))
	if err != nil {
		t.Fatalf("the platform's event samples belong beside the repository: %v", err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// withBearer is an HTTP sample event carrying an Authorization header.
func withBearer(t *testing.T, name, access string) []byte {
	t.Helper()
	ev := sample(t, name)
	headers, _ := ev["headers"].(map[string]any)
	if headers == nil {
		headers = map[string]any{}
		ev["headers"] = headers
	}
	headers["Authorization"] = "Bearer " + access
	return marshal(t, ev)
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// code is the contract's code of an authn error, failing the test if the
// error is not an *apierror.Error.
func code(t *testing.T, err error) apierror.Code {
	t.Helper()
	var e *apierror.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *apierror.Error", err)
	}
	return e.Code
}

// counted runs fn with a context that counts database round trips and
// checks that every command names its document by _id.
func counted(t *testing.T, fn func(ctx context.Context)) int {
	t.Helper()
	ctx, counter := roundtrip.NewRecordingContext(t.Context())
	fn(ctx)
	for _, c := range counter.Commands() {
		if err := functest.CheckKeyedByID(c); err != nil {
			t.Errorf("a command not keyed by _id: %v", err)
		}
	}
	return counter.Load()
}

func TestAuthenticateEveryKindOfEvent(t *testing.T) {
	l := newLogin(t)
	acct := l.env.SignUp(nil)
	a := l.authenticator(t)
	big := strings.Repeat("x", 64<<10)
	formPost := sample(t, "function-url-doc-2025.json")
	formPost["body"] = "a=1&b=" + big // neither JSON nor under 16 KiB: the function's business
	formPost["headers"].(map[string]any)["authorization"] = "bearer " + acct.AccessToken
	for _, tt := range []struct {
		name  string
		event []byte
	}{
		{"function URL (Tencent's sample)", withBearer(t, "function-url-doc-2025.json", acct.AccessToken)},
		{"function URL of 2023", withBearer(t, "function-url-doc-2023.json", acct.AccessToken)},
		{"API Gateway (Tencent's sample)", withBearer(t, "apigw-tencent-doc.json", acct.AccessToken)},
		{"API Gateway GET", withBearer(t, "apigw-scf-cli-docs-get.json", acct.AccessToken)},
		{"a form body of 64 KiB", marshal(t, formPost)},
		{"direct invocation", marshal(t, map[string]any{"action": "list", "accessToken": acct.AccessToken, "page": 2, "big": big})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p *authn.Principal
			var err error
			trips := counted(t, func(ctx context.Context) { p, err = a.Authenticate(ctx, tt.event) })
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != acct.User.ID.Hex() || p.SessionID == "" || p.WeChat != nil ||
				!p.IssuedAt.Equal(l.env.Clock.Now().Truncate(time.Second)) || !p.ExpiresAt.Equal(p.IssuedAt.Add(2*time.Hour)) {
				t.Fatalf("principal %+v", p)
			}
			if trips != 0 {
				t.Errorf("Authenticate took %d round trips, budget is 0", trips)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	l := newLogin(t)
	acct := l.env.SignUp(nil)
	a := l.authenticator(t)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, token.Claims{SessionID: "s", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "scf-auth", Subject: acct.User.ID.Hex(), ExpiresAt: jwt.NewNumericDate(l.env.Clock.Now().Add(time.Hour)),
	}}).SignedString([]byte(functest.JWTSecret))
	_, stranger := tokentest.PEM(t, token.ES256)
	var claims jwt.MapClaims
	tok, _, _ := jwt.NewParser().ParseUnverified(acct.AccessToken, &claims)
	unlisted := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	unlisted.Header["kid"] = tok.Header["kid"]
	forged, _ := unlisted.SignedString(stranger)
	for _, tt := range []struct {
		name  string
		event []byte
		want  apierror.Code
	}{
		{"no token", marshal(t, sample(t, "function-url-doc-2025.json")), apierror.Unauthorized},
		{"garbage token", withBearer(t, "apigw-tencent-doc.json", "not.a.token"), apierror.Unauthorized},
		{"HS256, even under the login's JWT_SECRET", withBearer(t, "apigw-tencent-doc.json", hs), apierror.Unauthorized},
		{"ES256 by an unlisted key with a listed kid", withBearer(t, "apigw-tencent-doc.json", forged), apierror.Unauthorized},
		{"a wx.cloud caller of another app", marshal(t, map[string]any{"userInfo": map[string]any{"appId": "wxother", "openId": "o1"}}), apierror.Unauthorized},
		{"not an event", []byte(`[1,2]`), apierror.InvalidRequest},
		{"not JSON", []byte(`{`), apierror.InvalidRequest},
		{"accessToken not a string", marshal(t, map[string]any{"accessToken": 12}), apierror.InvalidRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(t.Context(), tt.event)
			if p != nil || code(t, err) != tt.want {
				t.Fatalf("got %+v, %v, want %s", p, err, tt.want)
			}
		})
	}
	l.env.Clock.Advance(2*time.Hour + time.Second)
	if _, err := a.Authenticate(t.Context(), withBearer(t, "apigw-tencent-doc.json", acct.AccessToken)); code(t, err) != apierror.TokenExpired {
		t.Fatalf("expired: %v", err)
	}
}

func TestTrustedWeChatCaller(t *testing.T) {
	l := newLogin(t)
	acct := l.env.SignUp(func(u *store.User) { u.WeChat = functest.WeChatOf("o-caller", "") })
	a := l.authenticator(t)
	event := marshal(t, map[string]any{"action": "list", "userInfo": map[string]any{"appId": functest.AppID, "openId": "o-caller"}})

	p, err := a.Authenticate(t.Context(), event)
	if err != nil || p.WeChat == nil || p.WeChat.OpenID != "o-caller" || p.WeChat.AppID != functest.AppID || p.UserID != "" {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	var trips int
	trips = counted(t, func(ctx context.Context) { p, err = a.AuthenticateSession(ctx, event) })
	if err != nil || p.UserID != acct.User.ID.Hex() || p.WeChat.OpenID != "o-caller" {
		t.Fatalf("AuthenticateSession = %+v, %v", p, err)
	}
	if trips != 2 {
		t.Errorf("finding a wx.cloud caller's account took %d round trips, want 2 (its claim, its account)", trips)
	}
	stranger := marshal(t, map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-nobody"}})
	if _, err := a.AuthenticateSession(t.Context(), stranger); code(t, err) != apierror.Unauthorized {
		t.Fatalf("a WeChat user without an account: %v", err)
	}
	if err := l.env.Store.SetDisabled(t.Context(), acct.User.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateSession(t.Context(), event); code(t, err) != apierror.AccountDisabled {
		t.Fatalf("a disabled account's caller: %v", err)
	}
	// WeChat's own sample of the userInfo it injects.
	legacy, err := authn.New(authn.Options{JWKSURL: l.jwks.URL + "/token/jwks", MiniPrograms: []string{"xxx"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err = legacy.Authenticate(t.Context(), marshal(t, map[string]any{"page": 1, "userInfo": sample(t, "wxcloud-event-userInfo-legacy.json")}))
	if err != nil || p.WeChat.AppID != "xxx" || p.WeChat.OpenID != "yyy" {
		t.Fatalf("WeChat's sample userInfo: %+v, %v", p, err)
	}
	// A userInfo in an HTTP body is the client's word, not the platform's.
	ev := sample(t, "function-url-doc-2025.json")
	ev["body"] = string(marshal(t, map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-caller"}}))
	if _, err := a.Authenticate(t.Context(), marshal(t, ev)); code(t, err) != apierror.Unauthorized {
		t.Fatalf("userInfo in an HTTP body: %v", err)
	}
}

func TestAuthenticateSession(t *testing.T) {
	l := newLogin(t)
	a := l.authenticator(t)
	event := func(acct *functest.Account) []byte {
		return withBearer(t, "function-url-doc-2025.json", acct.AccessToken)
	}

	live := l.env.SignUp(nil)
	var p *authn.Principal
	var err error
	trips := counted(t, func(ctx context.Context) { p, err = a.AuthenticateSession(ctx, event(live)) })
	if err != nil || p.UserID != live.User.ID.Hex() {
		t.Fatalf("AuthenticateSession = %+v, %v", p, err)
	}
	if trips != 1 {
		t.Errorf("AuthenticateSession took %d round trips, budget is 1", trips)
	}

	loggedOut, deleted, disabled := l.env.SignUp(nil), l.env.SignUp(nil), l.env.SignUp(nil)
	ctx := t.Context()
	if _, err := l.env.Store.RemoveSessions(ctx, loggedOut.User.ID, sessionOf(t, a, loggedOut)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.env.Store.DeleteUser(ctx, deleted.User.ID, l.env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.env.Store.SetDisabled(ctx, disabled.User.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		acct *functest.Account
		want apierror.Code
	}{
		{"logged out", loggedOut, apierror.Unauthorized},
		{"deleted", deleted, apierror.Unauthorized},
		{"disabled", disabled, apierror.AccountDisabled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The signature alone still passes: that is what the session check is for.
			if _, err := a.Authenticate(t.Context(), event(tt.acct)); err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if _, err := a.AuthenticateSession(t.Context(), event(tt.acct)); code(t, err) != tt.want {
				t.Fatalf("AuthenticateSession: %v, want %s", err, tt.want)
			}
		})
	}
	noStore := l.authenticator(t, func(o *authn.Options) { o.Accounts = nil })
	if _, err := noStore.AuthenticateSession(t.Context(), event(live)); code(t, err) != apierror.Internal {
		t.Fatalf("without a store: %v", err)
	}
}

func sessionOf(t *testing.T, a *authn.Authenticator, acct *functest.Account) string {
	t.Helper()
	p, err := a.VerifyToken(t.Context(), acct.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return p.SessionID
}

func TestSessionCheckWhileTheDatabaseIsDown(t *testing.T) {
	l := newLogin(t)
	acct := l.env.SignUp(nil)
	down, err := store.Connect("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200", "auth", "authn-test")
	if err != nil {
		t.Fatal(err)
	}
	a := l.authenticator(t, func(o *authn.Options) { o.Accounts = authnstore.New(down, nil) })
	if _, err := a.AuthenticateSession(t.Context(), withBearer(t, "apigw-tencent-doc.json", acct.AccessToken)); code(t, err) != apierror.ServiceUnavailable {
		t.Fatalf("database down: %v", err)
	}
}

func TestKeysAreFetchedOnceAndRefetchedOnAnUnknownKid(t *testing.T) {
	oldKey, _ := tokentest.PEM(t, token.ES256)
	l := newLogin(t, oldKey)
	a := l.authenticator(t)
	old := l.env.SignUp(nil)
	ev := func(acct *functest.Account) []byte { return withBearer(t, "apigw-tencent-doc.json", acct.AccessToken) }

	// Many cold requests at once: one fetch.
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = a.Authenticate(t.Context(), ev(old)) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := l.jwks.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 32 concurrent first requests, want 1", n)
	}

	// The login adds a key and signs with it: its first token makes the
	// keys fetched again, once, since the last fetch is older than the
	// floor (30 s).
	newKey, _ := tokentest.PEM(t, token.ES256)
	l.sign(t, newKey, oldKey)
	fresh := l.env.SignUp(nil)
	if _, err := a.Authenticate(t.Context(), ev(fresh)); code(t, err) != apierror.Unauthorized {
		t.Fatalf("a new kid within the floor of the last fetch: %v", err)
	}
	l.env.Clock.Advance(31 * time.Second)
	for range 3 {
		if _, err := a.Authenticate(t.Context(), ev(fresh)); err != nil {
			t.Fatalf("a token of the new key: %v", err)
		}
	}
	if n := l.jwks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// Made-up kids fetch at most once per floor (30 s).
	var claims jwt.MapClaims
	_, _, _ = jwt.NewParser().ParseUnverified(fresh.AccessToken, &claims)
	_, stranger := tokentest.PEM(t, token.ES256)
	for i := range 20 {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		tok.Header["kid"] = strings.Repeat("k", i+1)
		s, _ := tok.SignedString(stranger)
		if _, err := a.Authenticate(t.Context(), ev(&functest.Account{AccessToken: s})); code(t, err) != apierror.Unauthorized {
			t.Fatalf("made-up kid: %v", err)
		}
		l.env.Clock.Advance(time.Second)
	}
	if n := l.jwks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after 20 made-up kids in 20 s, want no more than 2", n)
	}

	// The old key is removed. Once the keys are older than their max age
	// (5 minutes), they are fetched again and its tokens are refused.
	l.sign(t, newKey)
	if _, err := a.Authenticate(t.Context(), ev(old)); err != nil {
		t.Fatalf("within the max age the old key still verifies: %v", err)
	}
	l.env.Clock.Advance(5 * time.Minute)
	if _, err := a.Authenticate(t.Context(), ev(old)); code(t, err) != apierror.Unauthorized {
		t.Fatalf("a token of the removed key: %v", err)
	}
	if _, err := a.Authenticate(t.Context(), ev(fresh)); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if n := l.jwks.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
}

func TestWhenTheJWKSIsOutOfReach(t *testing.T) {
	l := newLogin(t)
	acct := l.env.SignUp(nil)
	ev := withBearer(t, "apigw-tencent-doc.json", acct.AccessToken)

	l.jwks.failing.Store(true)
	a := l.authenticator(t)
	if _, err := a.Authenticate(t.Context(), ev); code(t, err) != apierror.ServiceUnavailable {
		t.Fatalf("keys never fetched: %v", err)
	}
	l.env.Clock.Advance(31 * time.Second)
	l.jwks.failing.Store(false)
	if _, err := a.Authenticate(t.Context(), ev); err != nil {
		t.Fatalf("keys back: %v", err)
	}
	// Down again, past the max age: the keys fetched before keep verifying.
	l.jwks.failing.Store(true)
	l.env.Clock.Advance(10 * time.Minute)
	if _, err := a.Authenticate(t.Context(), ev); err != nil {
		t.Fatalf("stale keys during an outage: %v", err)
	}
	// A kid only a fetch could find is unavailable, not a forgery.
	l.sign(t)
	other := l.env.SignUp(nil)
	if _, err := a.Authenticate(t.Context(), withBearer(t, "apigw-tencent-doc.json", other.AccessToken)); code(t, err) != apierror.ServiceUnavailable {
		t.Fatalf("an unknown kid during an outage: %v", err)
	}

	for name, body := range map[string]string{"not JSON": "<html>", "no keys": `{}`, "a broken key": `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"k"}]}`} {
		t.Run(name, func(t *testing.T) {
			b := []byte(body)
			l.jwks.body.Store(&b)
			l.jwks.failing.Store(false)
			if _, err := l.authenticator(t).Authenticate(t.Context(), ev); code(t, err) != apierror.ServiceUnavailable {
				t.Fatalf("%s: %v", name, err)
			}
		})
	}
}

func TestStaticKeysAndSecret(t *testing.T) {
	l := newLogin(t)
	acct := l.env.SignUp(nil)
	ev := withBearer(t, "apigw-tencent-doc.json", acct.AccessToken)
	static, err := authn.New(authn.Options{JWKS: *l.jwks.body.Load(), Now: l.env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := static.Authenticate(t.Context(), ev); err != nil || p.UserID != acct.User.ID.Hex() {
		t.Fatalf("static JWK Set: %+v, %v", p, err)
	}
	if l.jwks.fetches.Load() != 0 {
		t.Fatal("a static JWK Set fetched")
	}

	// A login on HS256 (its default): the functions share JWT_SECRET.
	delete(l.env.Vars, "JWT_ALG")
	delete(l.env.Vars, "JWT_SIGNING_KEYS")
	hsAcct := l.env.SignUp(nil)
	secret, err := authn.New(authn.Options{Secret: []byte(functest.JWTSecret), Now: l.env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := secret.Authenticate(t.Context(), withBearer(t, "apigw-tencent-doc.json", hsAcct.AccessToken)); err != nil || p.UserID != hsAcct.User.ID.Hex() {
		t.Fatalf("HS256: %+v, %v", p, err)
	}
	if _, err := secret.Authenticate(t.Context(), ev); code(t, err) != apierror.Unauthorized {
		t.Fatalf("an ES256 token where HS256 is configured: %v", err)
	}
	if _, err := static.Authenticate(t.Context(), withBearer(t, "apigw-tencent-doc.json", hsAcct.AccessToken)); code(t, err) != apierror.Unauthorized {
		t.Fatalf("an HS256 token where a JWK Set is configured: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for name, opts := range map[string]authn.Options{
		"nothing":         {},
		"two sources":     {JWKSURL: "https://auth.example.com/token/jwks", Secret: []byte(functest.JWTSecret)},
		"not a URL":       {JWKSURL: "auth.example.com/token/jwks"},
		"short secret":    {Secret: []byte("short")},
		"empty JWK Set":   {JWKS: []byte(`{"keys":[]}`)},
		"broken JWK Set":  {JWKS: []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA","kid":"k"}]}`)},
		"ftp URL":         {JWKSURL: "ftp://auth.example.com/jwks"},
		"JWK Set not one": {JWKS: []byte(`[]`)},
	} {
		if _, err := authn.New(opts); err == nil || !strings.HasPrefix(err.Error(), "authn: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// platformContext is the invocation context a wx.cloud call from user
// openid (and unionid) of app carries, as scf-go-lib hands it to a
// function.
func platformContext(ctx context.Context, app, openid, unionid string) context.Context {
	env := map[string]string{"WX_CONTEXT_KEYS": "WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP", "WX_APPID": app, "WX_OPENID": openid, "WX_CLIENTIP": "203.0.113.77"}
	if unionid != "" {
		env["WX_UNIONID"] = unionid
	}
	return functioncontext.NewContext(ctx, &functioncontext.FunctionContext{RequestID: "invocation-1", Environment: env})
}

// TestWeChatCallerFromTheInvocationContext: a wx.cloud call says who calls
// in its invocation's context; that caller is trusted for the login's
// mini-program, found by openid or by unionid, and never carried over to
// the next invocation through the process environment.
func TestWeChatCallerFromTheInvocationContext(t *testing.T) {
	l := newLogin(t)
	byOpenID := l.env.SignUp(func(u *store.User) { u.WeChat = functest.WeChatOf("o-ctx", "") })
	byUnionID := l.env.SignUp(func(u *store.User) { // signed up in another app of the brand
		u.WeChat = &store.WeChat{OpenIDs: map[string]store.AppOpenID{"wx0ther0app0000000": {OpenID: "o-other-app"}}, UnionID: "u-brand"}
	})
	a := l.authenticator(t)
	event := marshal(t, map[string]any{"action": "list", "page": 1})

	ctx := platformContext(t.Context(), functest.AppID, "o-ctx", "")
	p, err := a.Authenticate(ctx, event)
	if err != nil || p.WeChat == nil || p.WeChat.OpenID != "o-ctx" || p.WeChat.AppID != functest.AppID || p.UserID != "" {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	trips := counted(t, func(c context.Context) {
		p, err = a.AuthenticateSession(platformContext(c, functest.AppID, "o-ctx", ""), event)
	})
	if err != nil || p.UserID != byOpenID.User.ID.Hex() {
		t.Fatalf("AuthenticateSession = %+v, %v", p, err)
	}
	if trips != 2 {
		t.Errorf("finding the caller's account took %d round trips, want 2 (its claim, its account)", trips)
	}

	// WX_UNIONID resolves the account like a unionid from jscode2session.
	trips = counted(t, func(c context.Context) {
		p, err = a.AuthenticateSession(platformContext(c, functest.AppID, "o-new-in-this-app", "u-brand"), event)
	})
	if err != nil || p.UserID != byUnionID.User.ID.Hex() || p.WeChat.UnionID != "u-brand" {
		t.Fatalf("by unionid: %+v, %v", p, err)
	}
	if trips != 3 {
		t.Errorf("finding the account by unionid took %d round trips, want 3 (both claims, sent together, then the account)", trips)
	}

	// Another app's caller is not the login's to vouch for.
	if _, err := a.Authenticate(platformContext(t.Context(), "wx-another-app", "o-ctx", ""), event); code(t, err) != apierror.Unauthorized {
		t.Fatalf("another app's caller: %v", err)
	}
	// The context and a userInfo that disagree name nobody.
	both := marshal(t, map[string]any{"userInfo": map[string]any{"appId": functest.AppID, "openId": "o-someone-else"}})
	if _, err := a.Authenticate(ctx, both); code(t, err) != apierror.Unauthorized {
		t.Fatalf("context and userInfo disagree: %v", err)
	}
	// A token still wins over the context: it names its own account.
	acct := l.env.SignUp(nil)
	withToken := marshal(t, map[string]any{"accessToken": acct.AccessToken})
	if p, err := a.Authenticate(ctx, withToken); err != nil || p.UserID != acct.User.ID.Hex() || p.WeChat != nil {
		t.Fatalf("token and context: %+v, %v", p, err)
	}

	// scf-go-lib copies each invocation's context into the process
	// environment, where it outlives the invocation: the next invocation,
	// with no context, is nobody.
	for k, v := range map[string]string{"WX_CONTEXT_KEYS": "WX_OPENID,WX_APPID", "WX_OPENID": "o-ctx", "WX_APPID": functest.AppID} {
		t.Setenv(k, v)
	}
	if _, err := a.Authenticate(t.Context(), event); code(t, err) != apierror.Unauthorized {
		t.Fatalf("a caller read from the process environment: %v", err)
	}
}
