package localscf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/sms/smstest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scf-auth-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	if err := localscf.Build(context.Background(), "../../..", binDir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	mongotest.Stop()
	os.Exit(code)
}

type stack struct {
	url   string
	sms   *smstest.Server
	sim   *wechatsim.Sim
	procs map[string]*localscf.Process
}

// newStack runs every function as its own process behind the gateway, on
// a fresh database, with the SMS fake and the WeChat simulator.
func newStack(t *testing.T, extra ...string) *stack {
	t.Helper()
	uri, db := mongotest.Database(t)
	return newStackOn(t, uri, db, extra...)
}

// newStackOn is newStack on a given database, with extra variables.
func newStackOn(t *testing.T, uri, db string, extra ...string) *stack {
	t.Helper()
	return newStackForApp(t, uri, db, gatewayAppID, extra...)
}

// gatewayAppID is the mini-program of the stacks' WeChat simulator.
const gatewayAppID = "wxgateway000000000"

// newStackForApp is newStackOn with the WeChat simulator and WECHAT_APPID
// of the mini-program appID.
func newStackForApp(t *testing.T, uri, db, appID string, extra ...string) *stack {
	t.Helper()
	mongotest.StoreFor(t, uri, db) // indexes
	fake := smstest.NewServer("AKIDgw", "gw-key")
	t.Cleanup(fake.Close)
	sim, simServer := wechatsim.NewServer(appID, "gw-secret")
	t.Cleanup(simServer.Close)
	env := []string{
		"MONGODB_URI=" + uri, "MONGODB_DATABASE=" + db, "JWT_SECRET=gateway-test-secret-0123456789abcdef",
		"SMS_PROVIDER=tencent", "SMS_ENDPOINT=" + fake.URL, "TENCENTCLOUD_SECRET_ID=AKIDgw", "TENCENTCLOUD_SECRET_KEY=gw-key",
		"SMS_SDK_APP_ID=1400000009", "SMS_SIGN_NAME=网关", "SMS_TEMPLATE_ID=9",
		"WECHAT_APPID=" + appID, "WECHAT_SECRET=gw-secret", "WECHAT_API_BASE=" + simServer.URL,
	}
	env = append(env, extra...)
	names, err := localscf.Functions("../../..")
	if err != nil {
		t.Fatal(err)
	}
	procs := map[string]*localscf.Process{}
	for _, n := range names {
		p := &localscf.Process{Name: n, Binary: filepath.Join(binDir, n), Env: env}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		procs[n] = p
	}
	srv := httptest.NewServer(&localscf.Gateway{Functions: procs, Logger: nil, WeChatAppID: appID})
	t.Cleanup(srv.Close)
	return &stack{url: srv.URL, sms: fake, sim: sim, procs: procs}
}

type reply struct {
	status    int
	requestID string
	Code      string         `json:"code"`
	Data      map[string]any `json:"data"`
	RequestID string         `json:"requestId"`
}

func (s *stack) call(t *testing.T, method, path, body, token string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s %s answered %d %s", method, path, resp.StatusCode, raw)
	}
	r.status, r.requestID = resp.StatusCode, resp.Header.Get("X-Request-Id")
	if r.requestID == "" || r.requestID != r.RequestID {
		t.Fatalf("X-Request-Id %q vs requestId %q", r.requestID, r.RequestID)
	}
	return r
}

func (r reply) expect(t *testing.T, status int, code string) reply {
	t.Helper()
	if r.status != status || r.Code != code {
		t.Fatalf("got %d %s (%v), want %d %s", r.status, r.Code, r.Data, status, code)
	}
	return r
}

func (r reply) str(key string) string { s, _ := r.Data[key].(string); return s }

func TestFlowThroughTheGateway(t *testing.T) {
	s := newStack(t)
	s.call(t, "POST", "/send-sms", `{"phone":"13800138000"}`, "").expect(t, 200, "OK")
	code := s.sms.LastCodeFor("13800138000")
	session := s.call(t, "POST", "/phone-login", `{"phone":"13800138000","code":"`+code+`"}`, "").expect(t, 200, "OK")
	access := session.str("accessToken")

	s.call(t, "GET", "/profile", "", access).expect(t, 200, "OK")
	s.call(t, "PATCH", "/profile", `{"nickname":"网关"}`, access).expect(t, 200, "OK")
	renewed := s.call(t, "POST", "/token/refresh", `{"refreshToken":"`+session.str("refreshToken")+`"}`, "").expect(t, 200, "OK")
	s.call(t, "POST", "/token/logout", `{}`, renewed.str("accessToken")).expect(t, 200, "OK")
	s.call(t, "GET", "/profile", "", renewed.str("accessToken")).expect(t, 401, "UNAUTHORIZED")

	wx := s.call(t, "POST", "/wx-login", `{"code":"`+s.sim.NewLoginCode(wechatsim.Identity{OpenID: "o-gw"})+`"}`, "").expect(t, 200, "OK")
	if wx.Data["isNewUser"] != true {
		t.Fatalf("wx-login: %v", wx.Data)
	}
	s.call(t, "POST", "/nowhere", `{}`, "").expect(t, 404, "NOT_FOUND")
	s.call(t, "DELETE", "/send-sms", ``, "").expect(t, 405, "METHOD_NOT_ALLOWED")
	s.call(t, "POST", "/send-sms", strings.Repeat("x", 20<<10), "").expect(t, 413, "PAYLOAD_TOO_LARGE")
}

func TestDirectInvocationOverRPC(t *testing.T) {
	s := newStack(t)
	out, err := localscf.InvokeDirect(context.Background(), s.procs["send-sms"], []byte(`{"phone":"13900139000"}`))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(out, &env); err != nil || env.Code != "OK" {
		t.Fatalf("direct invocation answered %s", out)
	}
}

func TestOneCodeOneSessionThroughTheGateway(t *testing.T) {
	s := newStack(t)
	s.call(t, "POST", "/send-sms", `{"phone":"13800138000"}`, "").expect(t, 200, "OK")
	body := `{"phone":"13800138000","code":"` + s.sms.LastCodeFor("13800138000") + `"}`
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.call(t, "POST", "/phone-login", body, "")
			mu.Lock()
			defer mu.Unlock()
			if r.Code == "OK" {
				ok++
			} else if r.Code != "CODE_INVALID" {
				t.Errorf("unexpected %d %s", r.status, r.Code)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d logins succeeded with one code, want 1", ok)
	}
}

func TestColdStart(t *testing.T) {
	s := newStack(t)
	for name, p := range s.procs {
		if p.ColdStart != 0 {
			t.Fatalf("%s: cold start measured before any invocation", name)
		}
	}
	s.call(t, "GET", "/profile", "", "").expect(t, 401, "UNAUTHORIZED")
	if s.procs["profile"].ColdStart <= 0 || s.procs["profile"].ColdStart > 30*time.Second {
		t.Fatalf("cold start %v", s.procs["profile"].ColdStart)
	}
}

// TestOnePersonOneAccountAcrossLoginPaths races one person's first logins
// on every path at once: a phone-login with a loginCode, wx-logins and
// phone-number logins. They all end in one account holding the phone and
// the WeChat identity.
func TestOnePersonOneAccountAcrossLoginPaths(t *testing.T) {
	s := newStack(t)
	const phone = "13800138000"
	s.call(t, "POST", "/send-sms", `{"phone":"`+phone+`"}`, "").expect(t, 200, "OK")
	person := wechatsim.Identity{OpenID: "o-one", UnionID: "u-one"}
	bodies := map[string][]string{
		"/phone-login": {`{"phone":"` + phone + `","code":"` + s.sms.LastCodeFor(phone) + `","loginCode":"` + s.sim.NewLoginCode(person) + `"}`},
	}
	for i := 0; i < 10; i++ {
		bodies["/wx-login"] = append(bodies["/wx-login"], `{"code":"`+s.sim.NewLoginCode(person)+`"}`)
	}
	for i := 0; i < 9; i++ {
		bodies["/phone-number-login"] = append(bodies["/phone-number-login"],
			`{"loginCode":"`+s.sim.NewLoginCode(person)+`","phoneCode":"`+s.sim.NewPhoneCode("86", phone)+`"}`)
	}
	var mu sync.Mutex
	var replies []reply
	var wg sync.WaitGroup
	for path, list := range bodies {
		for _, body := range list {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.call(t, "POST", path, body, "")
				mu.Lock()
				replies = append(replies, r)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	ids, created := map[string]bool{}, 0
	for _, r := range replies {
		if r.Code != "OK" {
			t.Fatalf("a login answered %d %s %v", r.status, r.Code, r.Data)
		}
		user := r.Data["user"].(map[string]any)
		ids[user["id"].(string)] = true
		if r.Data["isNewUser"] == true {
			created++
		}
	}
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d accounts, %d answers said new; want one of each", len(ids), created)
	}
	// The account holds both identities: a last login shows it.
	last := s.call(t, "POST", "/phone-number-login",
		`{"loginCode":"`+s.sim.NewLoginCode(person)+`","phoneCode":"`+s.sim.NewPhoneCode("86", phone)+`"}`, "").expect(t, 200, "OK")
	user := last.Data["user"].(map[string]any)
	if !ids[user["id"].(string)] || user["phone"] != phone || user["wechatBound"] != true {
		t.Fatalf("account after the race: %v", user)
	}
}

// TestLinkRacingALoginWithThatPhone races a WeChat account binding a
// number with a phone-login of that number, both with its code: one
// account ends up with the number, never two.
func TestLinkRacingALoginWithThatPhone(t *testing.T) {
	for round := 0; round < 3; round++ {
		s := newStack(t)
		const phone = "13800138000"
		wx := s.call(t, "POST", "/wx-login", `{"code":"`+s.sim.NewLoginCode(wechatsim.Identity{OpenID: "o-link"})+`"}`, "").expect(t, 200, "OK")
		s.call(t, "POST", "/send-sms", `{"phone":"`+phone+`"}`, "").expect(t, 200, "OK")
		body := `{"phone":"` + phone + `","code":"` + s.sms.LastCodeFor(phone) + `"}`
		var link, login reply
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); link = s.call(t, "POST", "/profile/phone", body, wx.str("accessToken")) }()
		go func() { defer wg.Done(); login = s.call(t, "POST", "/phone-login", body, "") }()
		wg.Wait()
		holders := 0
		if link.Code == "OK" {
			holders++
		}
		if login.Code == "OK" && login.Data["user"].(map[string]any)["id"] != wx.Data["user"].(map[string]any)["id"] {
			holders++
		}
		if holders != 1 {
			t.Fatalf("link %s, login %s: %d accounts got the number, want 1", link.Code, login.Code, holders)
		}
	}
}

// TestRefusedSendsGiveNoFreeGuesses repeats the attack on a number the
// provider refuses: send, then guess. No refused send leaves a code, so
// no guess is ever judged beyond the attempts of the one code that went
// out.
func TestRefusedSendsGiveNoFreeGuesses(t *testing.T) {
	s := newStack(t)
	const phone = "13800138000"
	s.call(t, "POST", "/send-sms", `{"phone":"`+phone+`"}`, "").expect(t, 200, "OK")
	right := s.sms.LastCodeFor(phone)
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	judged := 0
	for round := 0; round < 4; round++ {
		s.sms.FailNext("status:LimitExceeded.PhoneNumberDailyLimit")
		r := s.call(t, "POST", "/send-sms", `{"phone":"`+phone+`"}`, "")
		if r.Code != "SMS_LIMIT_EXCEEDED" && r.Code != "SMS_COOLDOWN" {
			t.Fatalf("refused send answered %s", r.Code)
		}
		for i := 0; i < 5; i++ {
			g := s.call(t, "POST", "/phone-login", `{"phone":"`+phone+`","code":"`+wrong+`"}`, "")
			if _, counted := g.Data["attemptsLeft"]; counted {
				judged++
			}
		}
	}
	if judged > 5 {
		t.Fatalf("%d guesses judged, want at most the 5 of the one code sent", judged)
	}
	s.call(t, "POST", "/phone-login", `{"phone":"`+phone+`","code":"`+right+`"}`, "").expect(t, 401, "CODE_INVALID")
}

// TestDeletingTheAccountDoesNotResetTheSendCaps loops send-sms →
// phone-login → DELETE /profile on one number: the send records are not
// the account's, so the per-phone cap still stops the loop.
func TestDeletingTheAccountDoesNotResetTheSendCaps(t *testing.T) {
	s := newStack(t, "SMS_COOLDOWN=1s", "SMS_PHONE_HOURLY_LIMIT=2")
	const phone = "13800138000"
	for round := 0; ; round++ {
		r := s.call(t, "POST", "/send-sms", `{"phone":"`+phone+`"}`, "")
		if round == 2 {
			r.expect(t, 429, "SMS_LIMIT_EXCEEDED")
			break
		}
		r.expect(t, 200, "OK")
		session := s.call(t, "POST", "/phone-login", `{"phone":"`+phone+`","code":"`+s.sms.LastCodeFor(phone)+`"}`, "").expect(t, 200, "OK")
		s.call(t, "DELETE", "/profile", "", session.str("accessToken")).expect(t, 200, "OK")
		time.Sleep(1100 * time.Millisecond)
	}
	if n := len(s.sms.Messages()); n != 2 {
		t.Fatalf("%d SMS sent, want the cap of 2", n)
	}
}

// TestGlobalCapAcrossGateways runs two gateways, each with its own
// function processes, on one database: the deployment's cap holds across
// them.
func TestGlobalCapAcrossGateways(t *testing.T) {
	uri, db := mongotest.Database(t)
	extra := []string{"SMS_GLOBAL_HOURLY_LIMIT=3", "SMS_IP_HOURLY_LIMIT=100"}
	stacks := []*stack{newStackOn(t, uri, db, extra...), newStackOn(t, uri, db, extra...)}
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := stacks[i%2].call(t, "POST", "/send-sms", fmt.Sprintf(`{"phone":"1380013800%d"}`, i), "")
			mu.Lock()
			codes[r.Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes["OK"] < 1 || codes["OK"] > 3 || codes["OK"]+codes["SMS_LIMIT_EXCEEDED"] != 8 {
		t.Fatalf("answers %v: want at most 3 sends under a global cap of 3, the rest refused", codes)
	}
	if sent := len(stacks[0].sms.Messages()) + len(stacks[1].sms.Messages()); sent != codes["OK"] {
		t.Fatalf("%d SMS sent for %d OK answers", sent, codes["OK"])
	}
}
