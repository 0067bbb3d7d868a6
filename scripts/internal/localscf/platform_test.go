package localscf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// These tests speak SCF's runtime protocol to the built binaries, as the
// platform does: an InvokeRequest with the event as Payload and the
// invocation's context as Environment.

// samplesDir holds Tencent's and WeChat's sample events (see its
// SOURCES.md).
const samplesDir = "../../../pkg/adapter/testdata/platform"

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleContext turns the getWXContext() sample back into the context it
// is read from: wx-server-sdk strips the WX_ prefix of the keys
// WX_CONTEXT_KEYS lists.
func sampleContext(t *testing.T) map[string]string {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal(sample(t, "wxcloud-getWXContext-result.json"), &got); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	var keys []string
	for k, v := range got {
		env["WX_"+k] = v
		keys = append(keys, "WX_"+k)
	}
	sort.Strings(keys)
	env["WX_CONTEXT_KEYS"] = strings.Join(keys, ",")
	return env
}

// answer is a function's answer as the runtime returned it: an integrated
// response (status set) or an envelope (status 0).
type answer struct {
	status int
	Code   string         `json:"code"`
	Data   map[string]any `json:"data"`
	raw    string
}

func invokeRPC(t *testing.T, p *localscf.Process, event []byte, environment map[string]string) answer {
	t.Helper()
	out, err := localscf.InvokeWithContext(context.Background(), p, event, environment)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	a := answer{raw: string(out)}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err != nil {
		t.Fatalf("%s answered %s", p.Name, out)
	}
	body := out
	if _, isHTTP := top["statusCode"]; isHTTP {
		var resp struct {
			IsBase64Encoded *bool             `json:"isBase64Encoded"`
			StatusCode      int               `json:"statusCode"`
			Headers         map[string]string `json:"headers"`
			Body            string            `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.IsBase64Encoded == nil || *resp.IsBase64Encoded ||
			resp.Headers["Content-Type"] != "application/json; charset=utf-8" || resp.Headers["X-Request-Id"] == "" {
			t.Fatalf("%s: not an integrated response: %s", p.Name, out)
		}
		a.status, body = resp.StatusCode, []byte(resp.Body)
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Code == "" {
		t.Fatalf("%s: not an envelope: %s", p.Name, body)
	}
	return a
}

// expected is what each function answers a sample: "status code" (status
// 0 for a direct invocation's envelope), in the order of functions.
type expected map[string]string

// TestPlatformSamplesThroughEveryFunction replays every sample through
// every built function over the runtime protocol and checks the shape of
// each answer and its code.
func TestPlatformSamplesThroughEveryFunction(t *testing.T) {
	s := newStack(t)
	legacy := `{"userInfo":` + string(sample(t, "wxcloud-event-userInfo-legacy.json")) + `}`
	// The samples' wx.cloud caller (app "xxx") is not this deployment's:
	// each function answers as for a call without a caller.
	untrusted := expected{
		"send-sms": "0 INVALID_REQUEST", "phone-login": "0 INVALID_REQUEST", "wx-login": "0 INVALID_REQUEST",
		"phone-number-login": "0 INVALID_REQUEST", "profile": "0 UNAUTHORIZED", "token": "0 INVALID_REQUEST",
	}
	tests := []struct {
		name        string
		event       []byte
		environment map[string]string
		want        expected
	}{
		{"apigw-tencent-doc.json", sample(t, "apigw-tencent-doc.json"), nil, expected{
			"send-sms": "404 NOT_FOUND", "phone-login": "404 NOT_FOUND", "wx-login": "404 NOT_FOUND",
			"phone-number-login": "404 NOT_FOUND", "profile": "404 NOT_FOUND", "token": "404 NOT_FOUND"}},
		{"apigw-scf-go-lib-test.json", sample(t, "apigw-scf-go-lib-test.json"), nil, expected{
			"send-sms": "404 NOT_FOUND", "phone-login": "404 NOT_FOUND", "wx-login": "404 NOT_FOUND",
			"phone-number-login": "404 NOT_FOUND", "profile": "404 NOT_FOUND", "token": "404 NOT_FOUND"}},
		{"apigw-scf-cli-docs-get.json (GET /)", sample(t, "apigw-scf-cli-docs-get.json"), nil, expected{
			"send-sms": "405 METHOD_NOT_ALLOWED", "phone-login": "405 METHOD_NOT_ALLOWED", "wx-login": "405 METHOD_NOT_ALLOWED",
			"phone-number-login": "405 METHOD_NOT_ALLOWED", "profile": "401 UNAUTHORIZED", "token": "404 NOT_FOUND"}},
		{"function-url-doc-2025.json (POST / with a test body)", sample(t, "function-url-doc-2025.json"), nil, expected{
			"send-sms": "400 INVALID_REQUEST", "phone-login": "400 INVALID_REQUEST", "wx-login": "400 INVALID_REQUEST",
			"phone-number-login": "400 INVALID_REQUEST", "profile": "405 METHOD_NOT_ALLOWED", "token": "404 NOT_FOUND"}},
		{"function-url-doc-2023.json", sample(t, "function-url-doc-2023.json"), nil, expected{
			"send-sms": "400 INVALID_REQUEST", "phone-login": "400 INVALID_REQUEST", "wx-login": "400 INVALID_REQUEST",
			"phone-number-login": "400 INVALID_REQUEST", "profile": "405 METHOD_NOT_ALLOWED", "token": "404 NOT_FOUND"}},
		{"wxcloud-event-userInfo-legacy.json", []byte(legacy), nil, untrusted},
		{"wxcloud-getWXContext-result.json", []byte(`{}`), sampleContext(t), untrusted},
		{"both wx.cloud samples, agreeing", []byte(legacy), sampleContext(t), untrusted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, p := range s.procs {
				want, ok := tt.want[name]
				if !ok {
					t.Fatalf("no expectation for %s", name)
				}
				a := invokeRPC(t, p, tt.event, tt.environment)
				if got := fmt.Sprintf("%d %s", a.status, a.Code); got != want {
					t.Errorf("%s answered %s, want %s: %s", name, got, want, a.raw)
				}
				// The body's own field is named, never something else.
				if strings.Contains(tt.name, "function-url") && a.Code == "INVALID_REQUEST" && a.Data["field"] != "test" {
					t.Errorf("%s: data.field %v, want test", name, a.Data["field"])
				}
			}
		})
	}
}

// TestPlatformSamplesOfTheDeploymentsApp replays the wx.cloud samples on a
// deployment whose mini-program is theirs ("xxx"): the caller they name
// (openid yyy, unionid zzz) logs in without a code and is its own account
// on every path.
func TestPlatformSamplesOfTheDeploymentsApp(t *testing.T) {
	uri, db := mongotest.Database(t)
	s := newStackForApp(t, uri, db, "xxx")
	legacy := []byte(`{"userInfo":` + string(sample(t, "wxcloud-event-userInfo-legacy.json")) + `}`)
	ctx := sampleContext(t)

	first := invokeRPC(t, s.procs["wx-login"], []byte(`{}`), ctx)
	if first.status != 0 || first.Code != "OK" || first.Data["isNewUser"] != true {
		t.Fatalf("wx-login as the sample's caller: %s", first.raw)
	}
	id := first.Data["user"].(map[string]any)["id"]
	for _, call := range []struct {
		name        string
		event       []byte
		environment map[string]string
	}{
		{"the context", []byte(`{"action":"get"}`), ctx},
		{"the legacy userInfo", legacy, nil},
		{"both", legacy, ctx},
	} {
		a := invokeRPC(t, s.procs["profile"], call.event, call.environment)
		if a.Code != "OK" || a.Data["user"].(map[string]any)["id"] != id {
			t.Fatalf("profile by %s: %s", call.name, a.raw)
		}
	}
	// The sample's unionid is the account's: a wx.login() code of another
	// openid with that unionid logs into it.
	code := s.sim.NewLoginCode(wechatsim.Identity{OpenID: "o-elsewhere", UnionID: "zzz"})
	b := s.call(t, "POST", "/wx-login", `{"code":"`+code+`"}`, "").expect(t, 200, "OK")
	if b.Data["user"].(map[string]any)["id"] != id {
		t.Fatalf("the unionid of the context did not resolve the account: %v", b.Data)
	}
}

// TestOneProcessCallerThenNoContext invokes one process as a wx.cloud
// caller, then without a context: scf-go-lib has copied the first
// context into the process environment, and the second call is still not
// that caller.
func TestOneProcessCallerThenNoContext(t *testing.T) {
	s := newStack(t)
	alice := localscf.WXCloudContext(gatewayAppID, "o-alice", "u-alice", "203.0.113.20")
	wx, profile := s.procs["wx-login"], s.procs["profile"]
	invokeRPC(t, wx, []byte(`{}`), alice).expectDirect(t, "OK")
	pid := profile.PID()
	invokeRPC(t, profile, []byte(`{"action":"get"}`), alice).expectDirect(t, "OK")
	for _, env := range []map[string]string{nil, {}, {"SCF_NAMESPACE": "default"}, {"WX_CONTEXT_KEYS": "WX_CLIENTIP", "WX_CLIENTIP": "203.0.113.20"}} {
		invokeRPC(t, profile, []byte(`{"action":"get"}`), env).expectDirect(t, "UNAUTHORIZED")
		invokeRPC(t, wx, []byte(`{}`), env).expectDirect(t, "INVALID_REQUEST")
	}
	// Bob after Alice in the same process is Bob.
	bob := localscf.WXCloudContext(gatewayAppID, "o-bob", "", "")
	invokeRPC(t, profile, []byte(`{"action":"get"}`), bob).expectDirect(t, "UNAUTHORIZED")
	if b := invokeRPC(t, wx, []byte(`{}`), bob).expectDirect(t, "OK"); b.Data["isNewUser"] != true {
		t.Fatalf("bob logged into an existing account: %s", b.raw)
	}
	if profile.PID() != pid {
		t.Fatal("the process was restarted between the calls")
	}
}

// TestClientAddressesOfTheSamples sends each HTTP sample to send-sms (its
// path made the function's and its body a phone): the client is the
// address the sample carries, and a sample without one counts under the
// shared key.
func TestClientAddressesOfTheSamples(t *testing.T) {
	s := newStack(t, "SMS_IP_HOURLY_LIMIT=1")
	p := s.procs["send-sms"]
	phone := 0
	for _, name := range []string{"apigw-tencent-doc.json", "apigw-scf-go-lib-test.json", "apigw-scf-cli-docs-get.json", "function-url-doc-2025.json", "function-url-doc-2023.json"} {
		var ev map[string]any
		if err := json.Unmarshal(sample(t, name), &ev); err != nil {
			t.Fatal(err)
		}
		ev["httpMethod"] = "POST"
		if _, apiGateway := ev["requestContext"]; apiGateway {
			ev["path"] = "/send-sms"
		}
		for round, want := range []string{"200 OK", "429 SMS_LIMIT_EXCEEDED"} {
			phone++
			ev["body"] = fmt.Sprintf(`{"phone":"139%08d"}`, phone)
			// A client-supplied X-Forwarded-For changes nothing.
			headers, _ := ev["headers"].(map[string]any)
			headers["x-forwarded-for"] = fmt.Sprintf("198.51.100.%d", phone)
			event, _ := json.Marshal(ev)
			a := invokeRPC(t, p, event, nil)
			if got := fmt.Sprintf("%d %s", a.status, a.Code); got != want {
				t.Fatalf("%s, send %d: %s, want %s: %s", name, round+1, got, want, a.raw)
			}
		}
	}
}

// TestWXCloudThroughTheGateway plays wx.cloud.callFunction through the
// local gateway: the caller in the X-WX- headers reaches the function as
// the invocation's context.
func TestWXCloudThroughTheGateway(t *testing.T) {
	s := newStack(t)
	call := func(method, name, body string, headers map[string]string) (int, map[string]any) {
		req, _ := http.NewRequest(method, s.url+localscf.WXCloudPath+name, strings.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var env map[string]any
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("%s answered %s", name, raw)
		}
		if _, isHTTP := env["statusCode"]; isHTTP {
			t.Fatalf("%s answered an HTTP response to a wx.cloud call: %s", name, raw)
		}
		return resp.StatusCode, env
	}
	alice := map[string]string{"X-WX-OPENID": "o-gw-alice", "X-WX-UNIONID": "u-gw-alice"}
	if status, env := call("POST", "wx-login", "", alice); status != 200 || env["code"] != "OK" {
		t.Fatalf("wx-login: %d %v", status, env)
	}
	if _, env := call("POST", "profile", `{"action":"get"}`, alice); env["code"] != "OK" {
		t.Fatalf("profile as alice: %v", env)
	}
	if _, env := call("POST", "profile", `{"action":"get"}`, nil); env["code"] != "UNAUTHORIZED" {
		t.Fatalf("profile without a caller: %v", env)
	}
	if _, env := call("POST", "profile", `{"action":"get"}`, map[string]string{"X-WX-OPENID": "o-gw-alice", "X-WX-APPID": "wxother"}); env["code"] != "UNAUTHORIZED" {
		t.Fatalf("profile as another app's user: %v", env)
	}
	if status, env := call("GET", "profile", "", alice); status != 405 || env["code"] != "METHOD_NOT_ALLOWED" {
		t.Fatalf("GET: %d %v", status, env)
	}
	if status, env := call("POST", "nowhere", "", alice); status != 404 || env["code"] != "NOT_FOUND" {
		t.Fatalf("unknown function: %d %v", status, env)
	}
}

func (a answer) expectDirect(t *testing.T, code string) answer {
	t.Helper()
	if a.status != 0 || a.Code != code {
		t.Fatalf("answered %d %s, want the envelope with %s: %s", a.status, a.Code, code, a.raw)
	}
	return a
}
