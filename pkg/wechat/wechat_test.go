package wechat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

const (
	appID  = "wx1234567890abcdef"
	secret = "s3cr3t-app-secret-value"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

type fixture struct {
	sim    *wechatsim.Sim
	server *httptest.Server
	store  *store.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sim, srv := wechatsim.NewServer(appID, secret)
	t.Cleanup(srv.Close)
	return &fixture{sim: sim, server: srv, store: mongotest.Store(t)}
}

func (f *fixture) client(appID, secret string) *wechat.Client {
	return wechat.New(f.server.URL, appID, secret, f.store, nil, time.Now)
}

func codeOf(err error) apierror.Code { return apierror.As(err).Code }

func TestCode2Session(t *testing.T) {
	f := newFixture(t)
	c := f.client(appID, secret)
	code := f.sim.NewLoginCode(wechatsim.Identity{OpenID: "o1", UnionID: "u1"})
	login, err := c.Code2Session(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if login.Identity.OpenID != "o1" || login.Identity.UnionID != "u1" || login.SessionKey == "" {
		t.Fatalf("login = %+v", login)
	}
	if _, err := c.Code2Session(context.Background(), code); codeOf(err) != apierror.WeChatCodeInvalid {
		t.Fatalf("reused code: %v", err)
	}
}

func TestCode2SessionErrors(t *testing.T) {
	tests := []struct {
		name      string
		fail      []int
		appID     string
		secret    string
		want      apierror.Code
		wantCalls int
		wantLog   string
	}{
		{"invalid code", []int{wechatsim.ErrInvalidCode}, appID, secret, apierror.WeChatCodeInvalid, 1, ""},
		{"used code", []int{wechatsim.ErrCodeUsed}, appID, secret, apierror.WeChatCodeInvalid, 1, ""},
		{"high-risk user", []int{40226}, appID, secret, apierror.WeChatCodeInvalid, 1, ""},
		{"rate limited", []int{wechatsim.ErrRateLimited}, appID, secret, apierror.WeChatRateLimited, 1, ""},
		{"busy once is retried", []int{wechatsim.ErrBusy}, appID, secret, apierror.OK, 2, ""},
		{"busy twice", []int{wechatsim.ErrBusy, wechatsim.ErrBusy}, appID, secret, apierror.WeChatUnavailable, 2, ""},
		{"unknown error", []int{99999}, appID, secret, apierror.WeChatUnavailable, 1, ""},
		{"wrong appid", nil, "wxwrong", secret, apierror.Internal, 1, "WECHAT_APPID"},
		{"wrong secret", nil, appID, "wrong", apierror.Internal, 1, "WECHAT_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for _, code := range tt.fail {
				f.sim.FailNext("jscode2session", code)
			}
			code := f.sim.NewLoginCode(wechatsim.Identity{OpenID: "o1"})
			_, err := f.client(tt.appID, tt.secret).Code2Session(context.Background(), code)
			if got := apierror.OK; err != nil {
				got = codeOf(err)
				if got != tt.want {
					t.Fatalf("code = %s, want %s (%v)", got, tt.want, err)
				}
			} else if tt.want != apierror.OK {
				t.Fatalf("no error, want %s", tt.want)
			}
			if got := f.sim.Calls("jscode2session"); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantLog != "" && !strings.Contains(err.Error(), tt.wantLog) {
				t.Errorf("cause %q does not name %s", err, tt.wantLog)
			}
		})
	}
}

func TestNetworkFailureIsUnavailableAndHidesTheSecret(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	c := wechat.New(srv.URL, appID, secret, mongotest.Store(t), nil, time.Now)
	_, err := c.Code2Session(context.Background(), "any")
	if codeOf(err) != apierror.WeChatUnavailable {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "js_code") {
		t.Fatalf("error exposes the request URL: %v", err)
	}
}

func TestSlowWeChatTimesOutWithinTheDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	c := wechat.New(srv.URL, appID, secret, mongotest.Store(t), nil, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	_, err := c.Code2Session(ctx, "any")
	if codeOf(err) != apierror.WeChatUnavailable {
		t.Fatalf("got %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the call used up the whole deadline instead of leaving room to answer")
	}
}

func TestAccessTokenIsFetchedOnceAcrossInstances(t *testing.T) {
	f := newFixture(t)
	// Eight instances (each its own client and lease owner) start at once,
	// each serving a few requests.
	var wg sync.WaitGroup
	tokens := make(chan string, 64)
	for i := 0; i < 8; i++ {
		c := f.client(appID, secret)
		for j := 0; j < 5; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := c.AccessToken(context.Background())
				if err != nil {
					t.Error(err)
				}
				tokens <- tok
			}()
		}
	}
	wg.Wait()
	close(tokens)
	first := ""
	for tok := range tokens {
		if first == "" {
			first = tok
		}
		if tok != first {
			t.Fatalf("instances got different tokens")
		}
	}
	if n := f.sim.Calls("stable_token"); n != 1 {
		t.Fatalf("stable_token fetched %d times, want 1", n)
	}
	if n := f.sim.Calls("token"); n != 0 {
		t.Fatalf("cgi-bin/token called %d times", n)
	}
}

func TestPhoneNumberRefetchesARejectedToken(t *testing.T) {
	f := newFixture(t)
	c := f.client(appID, secret)
	if _, err := c.PhoneNumber(context.Background(), f.sim.NewPhoneCode("86", "13800138000")); err != nil {
		t.Fatal(err)
	}
	f.sim.InvalidateAccessToken()
	p, err := c.PhoneNumber(context.Background(), f.sim.NewPhoneCode("86", "13900139000"))
	if err != nil {
		t.Fatalf("after the token was invalidated elsewhere: %v", err)
	}
	if p.CountryCode != "86" || p.Number != "13900139000" {
		t.Fatalf("phone = %+v", p)
	}
	if n := f.sim.Calls("stable_token"); n != 2 {
		t.Fatalf("stable_token fetched %d times, want 2", n)
	}
	if n := f.sim.Calls("getuserphonenumber"); n != 3 {
		t.Fatalf("getuserphonenumber called %d times, want 3", n)
	}
}

func TestPhoneNumberErrors(t *testing.T) {
	f := newFixture(t)
	c := f.client(appID, secret)
	if _, err := c.PhoneNumber(context.Background(), "bogus"); codeOf(err) != apierror.WeChatCodeInvalid {
		t.Fatalf("unknown phone code: %v", err)
	}
	f.sim.FailNext("getuserphonenumber", wechatsim.ErrTokenInvalid)
	f.sim.FailNext("getuserphonenumber", wechatsim.ErrTokenInvalid)
	_, err := c.PhoneNumber(context.Background(), f.sim.NewPhoneCode("86", "13800138000"))
	if codeOf(err) != apierror.Internal {
		t.Fatalf("token refused twice: %v", err)
	}
	f.sim.FailNext("stable_token", wechatsim.ErrRateLimited)
	f.sim.InvalidateAccessToken()
	if _, err := c.PhoneNumber(context.Background(), f.sim.NewPhoneCode("86", "13800138000")); codeOf(err) != apierror.WeChatRateLimited {
		t.Fatalf("stable_token rate limited: %v", err)
	}
}

func TestDecryptPhone(t *testing.T) {
	sim := wechatsim.New(appID, secret)
	code := sim.NewLoginCode(wechatsim.Identity{OpenID: "o1"})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	login, err := wechat.New(srv.URL, appID, secret, nil, nil, time.Now).Code2Session(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	data, iv, _ := sim.LegacyPhoneData(code, "86", "13800138000", appID)
	p, err := wechat.DecryptPhone(login.SessionKey, data, iv, appID)
	if err != nil || p.Number != "13800138000" || p.CountryCode != "86" {
		t.Fatalf("DecryptPhone = %+v, %v", p, err)
	}

	forged, forgedIV, _ := sim.LegacyPhoneData(code, "86", "13800138000", "wxattacker")
	other := sim.NewLoginCode(wechatsim.Identity{OpenID: "o2"})
	otherData, otherIV, _ := sim.LegacyPhoneData(other, "86", "13800138000", appID)
	tests := []struct {
		name, data, iv string
		want           apierror.Code
		field          string
	}{
		{"forged watermark", forged, forgedIV, apierror.WeChatCodeInvalid, ""},
		{"another login's data", otherData, otherIV, apierror.WeChatCodeInvalid, ""},
		{"data not base64", "%%%", iv, apierror.InvalidRequest, "encryptedData"},
		{"data not whole blocks", "AAAA", iv, apierror.InvalidRequest, "encryptedData"},
		{"iv too short", data, "AAAA", apierror.InvalidRequest, "iv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wechat.DecryptPhone(login.SessionKey, tt.data, tt.iv, appID)
			e := apierror.As(err)
			if err == nil || e.Code != tt.want || (tt.field != "" && e.Data["field"] != tt.field) {
				t.Fatalf("got %v, want %s %s", err, tt.want, tt.field)
			}
			if strings.Contains(err.Error(), login.SessionKey) {
				t.Fatal("error exposes the session key")
			}
		})
	}
}

func TestTokenDueForRefreshIsReplacedOnceAndUsedMeanwhile(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	clock := func() time.Time { return now }
	c := wechat.New(f.server.URL, appID, secret, f.store, nil, clock)
	first, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Into the token's last five minutes: stable_token hands out the next.
	now = now.Add(wechatsim.TokenTTL - 4*time.Minute)
	f.sim.Now = clock
	// Another instance holds the lease while it fetches: this one keeps
	// using the still-valid token rather than waiting.
	if err := f.store.AcquireTokenLease(context.Background(), appID, "other-instance", now, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := c.AccessToken(context.Background())
	if err != nil || got != first {
		t.Fatalf("during another's refresh: %q %v, want the current token", got, err)
	}
	if err := f.store.ReleaseTokenLease(context.Background(), appID, "other-instance"); err != nil {
		t.Fatal(err)
	}
	next, err := c.AccessToken(context.Background())
	if err != nil || next == first {
		t.Fatalf("token due for refresh not replaced: %q %v", next, err)
	}
	if n := f.sim.Calls("stable_token"); n != 2 {
		t.Fatalf("stable_token fetched %d times, want 2", n)
	}
}

func TestOnlyTransientFailuresAreRetried(t *testing.T) {
	for _, tt := range []struct {
		name      string
		status    int
		body      string
		wantCalls int
	}{
		{"HTTP 502", http.StatusBadGateway, "", 2},
		{"HTTP 404", http.StatusNotFound, "", 1},
		{"not JSON", http.StatusOK, "<html>", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			_, err := wechat.New(srv.URL, appID, secret, nil, nil, time.Now).Code2Session(context.Background(), "c")
			if codeOf(err) != apierror.WeChatUnavailable || calls != tt.wantCalls {
				t.Fatalf("%v after %d calls, want WECHAT_UNAVAILABLE after %d", err, calls, tt.wantCalls)
			}
		})
	}
}
