// Package functest drives functions from outside, as the platform does: it
// builds a function through the same app.New its main uses, with the
// environment pointing at a fresh database, the Tencent Cloud SMS fake and
// the WeChat simulator, and sends it events. Tests then look at the answer
// and at the stored state.
package functest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/roundtrip"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/sms/smstest"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// Test credentials of the fakes.
const (
	JWTSecret    = "test-jwt-secret-0123456789abcdef-xyz"
	AppID        = "wxf00dfeedc0ffee00"
	AppSecret    = "test-app-secret"
	TCSecretID   = "AKIDtest0000000000000000"
	TCSecretKey  = "test-tencent-secret-key"
	SMSAppID     = "1400000001"
	ClientIPAddr = "203.0.113.10"

	// The brand's other WeChat apps, in WECHAT_APPS: a second
	// mini-program, a 公众号 (H5 pages), a website and a mobile app.
	SecondMiniProgram = "wxb2b2b2b2b2b2b2b2"
	OfficialAccount   = "wx0a0a0a0a0a0a0a0a"
	Website           = "wx3e3e3e3e3e3e3e3e"
	MobileApp         = "wx6d6d6d6d6d6d6d6d"
	// OtherAppSecret is the secret of each of them.
	OtherAppSecret = "test-other-app-secret"
	// H5Origin is the browser origin CORS_ORIGINS lists.
	H5Origin = "https://h5.example.com"
)

// Env is one test's world: a fresh database and the outside services.
type Env struct {
	t      testing.TB
	Vars   map[string]string
	Store  *store.Store
	SMS    *smstest.Server
	WeChat *wechatsim.Sim
	Clock  *Clock
	Logs   *Buffer
}

// New builds an environment whose variables tests may change before
// building functions.
func New(t testing.TB) *Env {
	t.Helper()
	uri, db := mongotest.Database(t)
	st := mongotest.StoreFor(t, uri, db)
	fake := smstest.NewServer(TCSecretID, TCSecretKey)
	t.Cleanup(fake.Close)
	clock := NewClock(time.Now())
	sim, simServer := wechatsim.NewServer(AppID, AppSecret)
	sim.Now = clock.Now
	apps := []string{}
	for id, kind := range map[string]string{SecondMiniProgram: wechatsim.MiniProgram, OfficialAccount: wechatsim.OfficialAccount, Website: wechatsim.Website, MobileApp: wechatsim.Mobile} {
		sim.AddApp(id, OtherAppSecret, kind)
		apps = append(apps, id+":"+OtherAppSecret+":"+kind)
	}
	sort.Strings(apps)
	t.Cleanup(simServer.Close)
	return &Env{
		t: t, Store: st, SMS: fake, WeChat: sim, Clock: clock, Logs: new(Buffer),
		Vars: map[string]string{
			"MONGODB_URI": uri, "MONGODB_DATABASE": db, "JWT_SECRET": JWTSecret,
			"SMS_PROVIDER": "tencent", "SMS_ENDPOINT": fake.URL,
			"TENCENTCLOUD_SECRET_ID": TCSecretID, "TENCENTCLOUD_SECRET_KEY": TCSecretKey,
			"SMS_SDK_APP_ID": SMSAppID, "SMS_SIGN_NAME": "测试", "SMS_TEMPLATE_ID": "1000001",
			"WECHAT_APPID": AppID, "WECHAT_SECRET": AppSecret, "WECHAT_API_BASE": simServer.URL,
			"WECHAT_APPS": strings.Join(apps, ","), "CORS_ORIGINS": H5Origin,
		},
	}
}

// DatabaseDown points the functions built from now on at an address where
// no database answers, with a short server selection timeout.
func (e *Env) DatabaseDown() {
	e.Vars["MONGODB_URI"] = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
}

// Function builds the named function from the environment as it is now.
func (e *Env) Function(name string, build func(*app.Deps) (app.Handler, error)) *Function {
	vars := make(map[string]string, len(e.Vars))
	for k, v := range e.Vars {
		vars[k] = v
	}
	f := app.New(name, app.Options{Getenv: func(k string) string { return vars[k] }, Stdout: e.Logs, Now: e.Clock.Now}, build)
	return &Function{env: e, fn: f}
}

// SeedCode stores code as the live SMS code of phone, as send-sms would
// once the SMS went out.
func (e *Env) SeedCode(phone, code string) {
	e.t.Helper()
	cfg := e.config()
	nonce := otp.NewNonce()
	now := e.Clock.Now()
	c := store.Code{Nonce: nonce, Hash: app.CodeHasher(cfg).Hash(phone, nonce, code), SentAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	if err := e.Store.SaveCode(context.Background(), e.PhoneKey(phone), c, nil, now.Add(24*time.Hour)); err != nil {
		e.t.Fatal(err)
	}
}

// PhoneKey is the key of a phone's SMS state, as the functions derive it.
func (e *Env) PhoneKey(phone string) string { return app.SMSKeys(e.config()).Phone(phone) }

// PhoneSMS is the SMS state of a phone as stored.
func (e *Env) PhoneSMS(phone string) *store.PhoneSMS {
	e.t.Helper()
	p, err := e.Store.PhoneSMSOf(context.Background(), e.PhoneKey(phone))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// FailNextWrite makes the next write command (insert, update, delete or
// findAndModify) on collection of this test's database fail, as if the
// request had crashed there. It skips the test on a real MongoDB.
func (e *Env) FailNextWrite(command, collection string) {
	e.t.Helper()
	mongotest.FailNextWrite(e.t, e.Vars["MONGODB_DATABASE"], func(c, coll string) bool {
		return c == command && coll == collection
	})
}

// LoseNextReply lets the next write command on collection of this test's
// database apply, then drops the connection before its reply: the request
// cannot tell whether it applied, as after a timeout or a failover. It
// skips the test on a real MongoDB.
func (e *Env) LoseNextReply(command, collection string) {
	e.t.Helper()
	mongotest.LoseNextReply(e.t, e.Vars["MONGODB_DATABASE"], func(c, coll string) bool {
		return c == command && coll == collection
	})
}

// LoseNthReply is LoseNextReply for the nth write command (from 1) on
// collection from now on: the ones before it apply and are answered.
func (e *Env) LoseNthReply(command, collection string, n int) {
	e.t.Helper()
	seen := 0
	mongotest.LoseNextReply(e.t, e.Vars["MONGODB_DATABASE"], func(c, coll string) bool {
		if c != command || coll != collection {
			return false
		}
		seen++
		return seen == n
	})
}

// HoldNextWrite parks the next write command on collection of this test's
// database until release is called (also at the test's end); reached is
// closed when it arrives. It skips the test on a real MongoDB.
func (e *Env) HoldNextWrite(command, collection string) (reached <-chan struct{}, release func()) {
	e.t.Helper()
	reached, release = mongotest.HoldNextWrite(e.t, e.Vars["MONGODB_DATABASE"], func(c, coll string) bool {
		return c == command && coll == collection
	})
	e.t.Cleanup(release)
	return reached, release
}

func (e *Env) config() *config.Config {
	e.t.Helper()
	cfg, err := config.Load(func(k string) string { return e.Vars[k] })
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

// Function is a function under test.
type Function struct {
	env *Env
	fn  *adapter.Function
	// Timeout is each invocation's deadline, as the function's timeout
	// is on SCF; 20s unless set.
	Timeout time.Duration
}

// Answer is what a function answered, decoded.
type Answer struct {
	// Status is the HTTP status; 0 for a direct invocation.
	Status     int
	Headers    map[string]string
	Code       string         `json:"code"`
	Message    string         `json:"message"`
	Data       map[string]any `json:"data"`
	RequestID  string         `json:"requestId"`
	Raw        string
	RoundTrips int
}

// Request is an HTTP request as API Gateway passes it.
type Request struct {
	Method, Path, Body string
	Headers            map[string]string
	// Base64 sends the body base64-encoded, as for binary content.
	Base64 bool
	// FunctionURL sends the function URL shape (no requestContext).
	FunctionURL bool
}

// HTTP sends an API Gateway (or function URL) event.
func (f *Function) HTTP(r Request) *Answer {
	headers := map[string]any{"content-type": "application/json", "x-forwarded-for": "198.51.100.99"}
	for k, v := range r.Headers {
		headers[k] = v
	}
	body := r.Body
	if r.Base64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	ev := map[string]any{
		"httpMethod": r.Method, "path": r.Path, "headers": headers, "body": body,
		"isBase64Encoded": r.Base64, "queryString": map[string]any{},
	}
	if r.FunctionURL {
		headers["x-scf-remote-addr"] = ClientIPAddr
	} else {
		ev["requestContext"] = map[string]any{"sourceIp": ClientIPAddr, "requestId": "", "stage": "release", "httpMethod": "ANY", "path": r.Path}
	}
	return f.Invoke(mustJSON(ev))
}

// Post sends a JSON POST with an optional bearer token.
func (f *Function) Post(path, body, bearer string) *Answer {
	return f.HTTP(Request{Method: "POST", Path: path, Body: body, Headers: bearerHeader(bearer)})
}

// Do sends a request with an optional bearer token.
func (f *Function) Do(method, path, body, bearer string) *Answer {
	return f.HTTP(Request{Method: method, Path: path, Body: body, Headers: bearerHeader(bearer)})
}

// Direct sends a direct-invocation event (the SCF Invoke API, wx.cloud).
func (f *Function) Direct(event map[string]any) *Answer {
	return f.Invoke(mustJSON(event))
}

// Invoke sends a raw event and decodes the answer, counting round trips.
// Every command the function sent must name its document by _id (API.md
// §6): the test fails if one does not.
func (f *Function) Invoke(event []byte) *Answer {
	f.env.t.Helper()
	return f.invokeIn(context.Background(), event)
}

// invokeIn is Invoke with parent as the invocation's context.
func (f *Function) invokeIn(parent context.Context, event []byte) *Answer {
	f.env.t.Helper()
	ctx, counter := roundtrip.NewRecordingContext(parent)
	timeout := f.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := f.fn.Invoke(ctx, event)
	if err != nil {
		f.env.t.Fatalf("Invoke returned a Go error: %v", err)
	}
	for _, c := range counter.Commands() {
		if err := CheckKeyedByID(c); err != nil {
			f.env.t.Errorf("%s sent a command not keyed by _id: %v", f.fn.Name, err)
		}
	}
	a := &Answer{Raw: string(out), RoundTrips: counter.Load()}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil {
		f.env.t.Fatalf("answer is not JSON: %s", out)
	}
	if _, isHTTP := probe["statusCode"]; isHTTP {
		var resp struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			f.env.t.Fatal(err)
		}
		a.Status, a.Headers, a.Raw = resp.StatusCode, resp.Headers, resp.Body
		out = []byte(resp.Body)
		if resp.StatusCode == http.StatusNoContent && resp.Body == "" {
			return a // a CORS preflight's answer has no body
		}
	}
	if err := json.Unmarshal(out, a); err != nil {
		f.env.t.Fatalf("answer is not an envelope: %s", out)
	}
	return a
}

// Expect fails the test unless the answer has status and code. Pass status
// 0 for a direct invocation.
func (a *Answer) Expect(t testing.TB, status int, code string) *Answer {
	t.Helper()
	if a.Status != status || a.Code != code {
		t.Fatalf("got %d %s, want %d %s: %s", a.Status, a.Code, status, code, a.Raw)
	}
	if a.Message == "" || a.RequestID == "" {
		t.Fatalf("answer lacks message or requestId: %s", a.Raw)
	}
	if status != 0 && a.Headers["X-Request-Id"] != a.RequestID {
		t.Fatalf("X-Request-Id %q differs from requestId %q", a.Headers["X-Request-Id"], a.RequestID)
	}
	return a
}

// Field fails the test unless data.field names field.
func (a *Answer) Field(t testing.TB, field string) *Answer {
	t.Helper()
	if a.Data["field"] != field {
		t.Fatalf("data.field = %v, want %s: %s", a.Data["field"], field, a.Raw)
	}
	return a
}

// Str returns data[key] (dotted for nested objects) as a string.
func (a *Answer) Str(key string) string {
	v := a.get(key)
	s, _ := v.(string)
	return s
}

// Num returns data[key] (dotted) as a number.
func (a *Answer) Num(key string) float64 {
	n, _ := a.get(key).(float64)
	return n
}

// Get returns data[key] (dotted), nil when absent.
func (a *Answer) Get(key string) any { return a.get(key) }

func (a *Answer) get(key string) any {
	var cur any = a.Data
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

func bearerHeader(token string) map[string]string {
	if token == "" {
		return nil
	}
	return map[string]string{"authorization": "Bearer " + token}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Clock is a settable clock starting at real time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t; tests only move it forward.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Buffer is a goroutine-safe log sink.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Body builds a JSON body from alternating keys and values.
func Body(kv ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return string(mustJSON(m))
}

// Account is a user with a live session, as after a login.
type Account struct {
	User         *store.User
	AccessToken  string
	RefreshToken string
}

// SignUp creates an account (adjusted by mutate, if given) as a first
// login does, claims of its identities included, with a session.
func (e *Env) SignUp(mutate func(*store.User)) *Account {
	e.t.Helper()
	u := store.NewUser(e.Clock.Now())
	u.Nickname = account.GeneratedNickname()
	if mutate != nil {
		mutate(u)
	}
	ctx := context.Background()
	lease := store.NewLease()
	for _, id := range u.Identities() {
		u.List(id, lease)
		if err := e.Store.Claim(ctx, id, u.ID, lease, e.Clock.Now()); err != nil {
			e.t.Fatalf("claim %s: %v", id, err)
		}
	}
	ns := e.Sessions().Begin(ctx, session.MethodSMS)
	u.Sessions = map[string]store.Session{ns.ID: ns.Record}
	if err := e.Store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return e.answer(u, ns)
}

// LogIn starts a new session in u, as an SMS login does.
func (e *Env) LogIn(u *store.User) *Account {
	e.t.Helper()
	return e.LogInWith(u, session.MethodSMS, "")
}

// LogInWith starts a new session in u, as a login by method from a client
// so described does.
func (e *Env) LogInWith(u *store.User, method, client string) *Account {
	e.t.Helper()
	ctx := store.WithOrigin(context.Background(), store.Origin{Client: client})
	ns := e.Sessions().Begin(ctx, method)
	stored, err := e.Store.AddSession(ctx, u.ID, e.User(u.ID).Identities(), ns.ID, ns.Record)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.answer(stored, ns)
}

func (e *Env) answer(u *store.User, ns *account.NewSession) *Account {
	e.t.Helper()
	answer, err := e.Sessions().Answer(u, ns, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return &Account{User: u, AccessToken: answer.AccessToken, RefreshToken: answer.RefreshToken}
}

// Sessions is a session service configured like the functions.
func (e *Env) Sessions() *session.Service {
	return app.Sessions(e.config(), e.Store, e.Clock.Now)
}

// User reads an account as stored.
func (e *Env) User(id bson.ObjectID) *store.User {
	e.t.Helper()
	u, err := e.Store.UserByID(context.Background(), id)
	if err != nil {
		e.t.Fatalf("user %s: %v", id.Hex(), err)
	}
	return u
}

// Holder is the account an identity's claim names, or nil when free.
func (e *Env) Holder(id store.Identity) *bson.ObjectID {
	e.t.Helper()
	c, err := e.Store.ClaimOf(context.Background(), id)
	if errors.Is(err, store.ErrNotClaimed) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return &c.UserID
}

// UserOf is the account holding an identity, as stored; nil when the
// identity is free.
func (e *Env) UserOf(id store.Identity) *store.User {
	e.t.Helper()
	holder := e.Holder(id)
	if holder == nil {
		return nil
	}
	return e.User(*holder)
}

// CheckIdentities fails the test unless the stored accounts and claims
// agree: no identity listed by two live accounts, every identity a live
// account lists claimed for it under the lease it recorded, and, unless
// unsettled is allowed, every claim naming a live account that lists it.
func (e *Env) CheckIdentities(allowUnsettled bool) {
	e.t.Helper()
	ctx := context.Background()
	db := e.Store.Database()
	var users []*store.User
	cur, err := db.Collection("users").Find(ctx, bson.D{})
	if err == nil {
		err = cur.All(ctx, &users)
	}
	var claims []*store.Claim
	if err == nil {
		if cur, err = db.Collection("identities").Find(ctx, bson.D{}); err == nil {
			err = cur.All(ctx, &claims)
		}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	byID := map[store.Identity]*store.Claim{}
	for _, c := range claims {
		byID[c.ID] = c
	}
	accounts := map[bson.ObjectID]*store.User{}
	listedBy := map[store.Identity]bson.ObjectID{}
	for _, u := range users {
		accounts[u.ID] = u
		for _, id := range u.Identities() {
			if other, ok := listedBy[id]; ok {
				e.t.Errorf("%s is listed by two accounts, %s and %s", id, other.Hex(), u.ID.Hex())
			}
			listedBy[id] = u.ID
			lease, _ := u.LeaseOf(id)
			if c := byID[id]; c == nil || c.UserID != u.ID || c.Lease != lease {
				e.t.Errorf("account %s lists %s under lease %q; its claim is %+v", u.ID.Hex(), id, lease, c)
			}
		}
	}
	if allowUnsettled {
		return
	}
	for _, c := range claims {
		if u := accounts[c.UserID]; u == nil || !u.Holds(c.ID) {
			e.t.Errorf("the claim of %s names %s, which does not list it", c.ID, c.UserID.Hex())
		}
	}
}

// WeChatOf is the WeChat identity, in the test mini-program AppID, of the
// person with openid (and unionid, when not empty), for SignUp's mutate.
func WeChatOf(openid, unionid string) *store.WeChat {
	return &store.WeChat{OpenIDs: map[string]store.AppOpenID{AppID: {OpenID: openid}}, UnionID: unionid}
}

// OpenID is the identity of openid in the test mini-program AppID.
func OpenID(openid string) store.Identity { return store.OpenIDIdentity(AppID, openid) }

// SMSKeys are the keys of the SMS state, as the functions derive them.
func (e *Env) SMSKeys() smscode.Keys { return app.SMSKeys(e.config()) }
