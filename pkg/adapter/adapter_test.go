package adapter_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
)

const appID = "wx1234567890abcdef"

// echo answers the request as it saw it, so tests can check what the
// adapter made of each event.
func echo(_ context.Context, req *adapter.Request) (any, error) {
	name, _, err := req.Fields.String("name")
	if err != nil {
		return nil, err
	}
	count, _, err := req.Fields.Int("count")
	if err != nil {
		return nil, err
	}
	if err := req.Fields.Only("name", "count"); err != nil {
		return nil, err
	}
	caller, unionID := "", ""
	if req.Caller != nil {
		caller, unionID = req.Caller.OpenID, req.Caller.UnionID
	}
	return map[string]any{
		"kind": req.Kind, "name": name, "count": count, "ip": req.ClientIP, "key": req.ClientKey(),
		"token": req.AccessToken, "caller": caller, "unionid": unionID, "method": req.Method, "path": req.Path,
	}, nil
}

func newFunction(logs *bytes.Buffer) *adapter.Function {
	return &adapter.Function{
		Name: "echo",
		Routes: []adapter.Route{
			{Method: "POST", Path: "/echo", Action: "echo", Handle: echo},
			{Method: "GET", Path: "/echo", Action: "read", Handle: echo},
			{Method: "POST", Path: "/fail", Action: "fail", Handle: func(context.Context, *adapter.Request) (any, error) {
				return nil, errors.New("driver: connection to 10.0.0.5 refused, password=hunter2")
			}},
			{Method: "POST", Path: "/panic", Action: "panic", Handle: func(context.Context, *adapter.Request) (any, error) {
				panic("boom")
			}},
		},
		DefaultAction: "echo",
		MiniPrograms:  []string{appID},
		Logger:        slog.New(slog.NewJSONHandler(logs, nil)),
		Now:           func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

type answer struct {
	Status  int
	Headers map[string]string
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
	ReqID   string         `json:"requestId"`
}

func invoke(t *testing.T, f *adapter.Function, event []byte) answer {
	t.Helper()
	return invokeIn(t, context.Background(), f, event)
}

// invokeIn invokes f as the runtime does, with ctx carrying the
// invocation's function context.
func invokeIn(t *testing.T, ctx context.Context, f *adapter.Function, event []byte) answer {
	t.Helper()
	out, err := f.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("Invoke returned a Go error: %v", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("answer is not JSON: %s", out)
	}
	var a answer
	if _, isHTTP := probe["statusCode"]; isHTTP {
		var resp struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
			t.Fatalf("body is not an envelope: %s", resp.Body)
		}
		a.Status, a.Headers = resp.StatusCode, resp.Headers
		return a
	}
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func readEvent(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventKinds(t *testing.T) {
	tests := []struct {
		name       string
		event      string
		wantKind   string
		wantIP     string
		wantName   string
		wantCaller string
		wantHTTP   bool
	}{
		{"api gateway", "apigateway-post.json", "apigateway", "203.0.113.7", "小程序", "", true},
		{"function url with base64 body and trailing slash", "functionurl-post.json", "functionurl", "198.51.100.23", "url", "", true},
		{"direct invocation from wx.cloud", "direct-wxcloud.json", "direct", "", "cloud", "oAbCdEfGhIjKlMnOpQrStUvWxYz0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := invoke(t, newFunction(&logs), encode(t, readEvent(t, tt.event)))
			if a.Code != "OK" || a.Message != "ok" {
				t.Fatalf("got %s %q, want OK", a.Code, a.Message)
			}
			if got := a.Data["kind"]; got != tt.wantKind {
				t.Errorf("kind = %v, want %s", got, tt.wantKind)
			}
			if got := a.Data["ip"]; got != tt.wantIP {
				t.Errorf("client ip = %v, want %s (never X-Forwarded-For)", got, tt.wantIP)
			}
			if got := a.Data["name"]; got != tt.wantName {
				t.Errorf("name = %v, want %s", got, tt.wantName)
			}
			if got := a.Data["caller"]; got != tt.wantCaller {
				t.Errorf("caller = %v, want %q", got, tt.wantCaller)
			}
			if a.ReqID == "" || !strings.Contains(logs.String(), a.ReqID) {
				t.Errorf("request id %q missing from answer or log %s", a.ReqID, logs.String())
			}
			if tt.wantHTTP {
				if a.Status != 200 || a.Headers["Content-Type"] != "application/json; charset=utf-8" || a.Headers["X-Request-Id"] != a.ReqID {
					t.Errorf("status %d headers %v", a.Status, a.Headers)
				}
			} else if a.Status != 0 {
				t.Errorf("direct invocation answered an HTTP response")
			}
		})
	}
}

func TestAPIGatewayRequestIDIsKept(t *testing.T) {
	a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, readEvent(t, "apigateway-post.json")))
	if a.ReqID != "apigw-7f2c" {
		t.Fatalf("requestId = %q, want the gateway's", a.ReqID)
	}
}

func httpEvent(method, path, body string, mutate ...func(map[string]any)) map[string]any {
	ev := map[string]any{
		"httpMethod": method, "path": path, "body": body, "isBase64Encoded": false,
		"headers":        map[string]any{"content-type": "application/json", "Authorization": "Bearer abc.def.ghi"},
		"requestContext": map[string]any{"sourceIp": "203.0.113.9"},
	}
	for _, m := range mutate {
		m(ev)
	}
	return ev
}

func TestHTTPErrors(t *testing.T) {
	big := `{"name":"` + strings.Repeat("a", adapter.MaxBody) + `"}`
	tests := []struct {
		name       string
		event      map[string]any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"unknown route", httpEvent("POST", "/nope", `{}`), 404, "NOT_FOUND", ""},
		{"wrong method", httpEvent("DELETE", "/echo", ``), 405, "METHOD_NOT_ALLOWED", ""},
		{"body over 16 KiB", httpEvent("POST", "/echo", big), 413, "PAYLOAD_TOO_LARGE", ""},
		{"base64 body over 16 KiB", httpEvent("POST", "/echo", base64.StdEncoding.EncodeToString([]byte(big)), func(e map[string]any) { e["isBase64Encoded"] = true }), 413, "PAYLOAD_TOO_LARGE", ""},
		{"bad base64", httpEvent("POST", "/echo", "%%%", func(e map[string]any) { e["isBase64Encoded"] = true }), 400, "INVALID_REQUEST", ""},
		{"array body", httpEvent("POST", "/echo", `[1,2]`), 400, "INVALID_REQUEST", ""},
		{"string body", httpEvent("POST", "/echo", `"name"`), 400, "INVALID_REQUEST", ""},
		{"null body", httpEvent("POST", "/echo", `null`), 400, "INVALID_REQUEST", ""},
		{"not json", httpEvent("POST", "/echo", `name=x`), 400, "INVALID_REQUEST", ""},
		{"trailing data", httpEvent("POST", "/echo", `{"name":"a"} {}`), 400, "INVALID_REQUEST", ""},
		{"duplicate key", httpEvent("POST", "/echo", `{"name":"a","name":"b"}`), 400, "INVALID_REQUEST", "name"},
		{"operator instead of string", httpEvent("POST", "/echo", `{"name":{"$gt":""}}`), 400, "INVALID_REQUEST", "name"},
		{"number instead of string", httpEvent("POST", "/echo", `{"name":12}`), 400, "INVALID_REQUEST", "name"},
		{"fraction instead of whole number", httpEvent("POST", "/echo", `{"count":1.5}`), 400, "INVALID_REQUEST", "count"},
		{"string instead of number", httpEvent("POST", "/echo", `{"count":"1"}`), 400, "INVALID_REQUEST", "count"},
		{"unknown field", httpEvent("POST", "/echo", `{"name":"a","role":"admin"}`), 400, "INVALID_REQUEST", "role"},
		{"case-folded field is unknown", httpEvent("POST", "/echo", `{"NAME":"a"}`), 400, "INVALID_REQUEST", "NAME"},
		{"malformed event", map[string]any{"httpMethod": 7}, 0, "INVALID_REQUEST", ""},
		{"handler error is internal and hidden", httpEvent("POST", "/fail", `{}`), 500, "INTERNAL", ""},
		{"panic is internal", httpEvent("POST", "/panic", `{}`), 500, "INTERNAL", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := invoke(t, newFunction(&logs), encode(t, tt.event))
			if a.Status != tt.wantStatus || a.Code != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s (data %v)", a.Status, a.Code, tt.wantStatus, tt.wantCode, a.Data)
			}
			if tt.wantField != "" && a.Data["field"] != tt.wantField {
				t.Errorf("data.field = %v, want %s", a.Data["field"], tt.wantField)
			}
			if a.Message == "" || a.ReqID == "" {
				t.Errorf("message %q requestId %q must not be empty", a.Message, a.ReqID)
			}
			if raw := encode(t, a); strings.Contains(string(raw), "hunter2") || strings.Contains(string(raw), "boom") {
				t.Errorf("internal cause leaked to the client: %s", raw)
			}
			if tt.wantStatus >= 500 && !strings.Contains(logs.String(), a.ReqID) {
				t.Errorf("5xx not logged with its request id: %s", logs.String())
			}
		})
	}
}

func TestMethodNotAllowedListsAllowedMethods(t *testing.T) {
	a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, httpEvent("PUT", "/echo", `{}`)))
	if a.Headers["Allow"] != "GET, POST" {
		t.Fatalf("Allow = %q", a.Headers["Allow"])
	}
}

func TestHTTPBodyUserInfoIsIgnored(t *testing.T) {
	body := `{"name":"a","userInfo":{"appId":"` + appID + `","openId":"forged"}}`
	a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, httpEvent("POST", "/echo", body)))
	if a.Code != "OK" || a.Data["caller"] != "" {
		t.Fatalf("got %s caller %v, want OK and no caller", a.Code, a.Data["caller"])
	}
	if a.Data["token"] != "abc.def.ghi" {
		t.Errorf("bearer token = %v", a.Data["token"])
	}
}

func TestGETIgnoresBody(t *testing.T) {
	a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, httpEvent("GET", "/echo", `not json`)))
	if a.Code != "OK" || a.Data["method"] != "GET" {
		t.Fatalf("got %s %v", a.Code, a.Data)
	}
}

func TestDirectInvocation(t *testing.T) {
	tests := []struct {
		name       string
		event      string
		wantCode   string
		wantField  string
		wantCaller string
		wantPath   string
	}{
		{"default action", `{"name":"a"}`, "OK", "", "", "/echo"},
		{"named action", `{"action":"read","name":"a"}`, "OK", "", "", "/echo"},
		{"access token member", `{"accessToken":"t0k","name":"a"}`, "OK", "", "", "/echo"},
		{"trusted userInfo", `{"userInfo":{"appId":"` + appID + `","openId":"o1"}}`, "OK", "", "o1", "/echo"},
		{"platform context is not a field", `{"name":"a","tcbContext":{"env":"e"},"userInfo":{"appId":"` + appID + `","openId":"o1"}}`, "OK", "", "o1", "/echo"},
		{"userInfo of another app is not trusted", `{"userInfo":{"appId":"wxother","openId":"o1"}}`, "OK", "", "", "/echo"},
		{"userInfo without openId is not trusted", `{"userInfo":{"appId":"` + appID + `"}}`, "OK", "", "", "/echo"},
		{"unknown action", `{"action":"drop"}`, "INVALID_REQUEST", "action", "", ""},
		{"action of wrong type", `{"action":1}`, "INVALID_REQUEST", "action", "", ""},
		{"malformed userInfo", `{"userInfo":"o1"}`, "INVALID_REQUEST", "userInfo", "", ""},
		{"not an object", `[1]`, "INVALID_REQUEST", "", "", ""},
		{"too large", `{"name":"` + strings.Repeat("x", adapter.MaxBody) + `"}`, "PAYLOAD_TOO_LARGE", "", "", ""},
		{"internal error", `{"action":"fail"}`, "INTERNAL", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := invoke(t, newFunction(new(bytes.Buffer)), []byte(tt.event))
			if a.Code != tt.wantCode {
				t.Fatalf("code = %s, want %s (data %v)", a.Code, tt.wantCode, a.Data)
			}
			if tt.wantField != "" && a.Data["field"] != tt.wantField {
				t.Errorf("data.field = %v, want %s", a.Data["field"], tt.wantField)
			}
			if a.Code == "OK" {
				if a.Data["caller"] != tt.wantCaller || a.Data["path"] != tt.wantPath {
					t.Errorf("caller %v path %v", a.Data["caller"], a.Data["path"])
				}
			}
		})
	}
}

func TestBrokenFunctionAnswersInternalAndLogsTheVariable(t *testing.T) {
	var logs bytes.Buffer
	f := newFunction(&logs)
	f.Broken = &configError{}
	a := invoke(t, f, encode(t, httpEvent("POST", "/echo", `{}`)))
	if a.Status != 500 || a.Code != "INTERNAL" {
		t.Fatalf("got %d %s", a.Status, a.Code)
	}
	if !strings.Contains(logs.String(), "JWT_SECRET") {
		t.Fatalf("log does not name the variable: %s", logs.String())
	}
}

type configError struct{}

func (*configError) Error() string { return "config: JWT_SECRET must be at least 32 bytes" }

func TestAPIErrorDataReachesClient(t *testing.T) {
	f := newFunction(new(bytes.Buffer))
	f.Routes = []adapter.Route{{Method: "POST", Path: "/echo", Action: "echo", Handle: func(context.Context, *adapter.Request) (any, error) {
		return nil, apierror.Cooldown(42)
	}}}
	a := invoke(t, f, encode(t, httpEvent("POST", "/echo", `{}`)))
	if a.Status != 429 || a.Code != "SMS_COOLDOWN" || a.Data["retryAfter"] != float64(42) {
		t.Fatalf("got %d %s %v", a.Status, a.Code, a.Data)
	}
}

func TestBase64FlagAsString(t *testing.T) {
	for _, v := range []any{"true", "TRUE", true} {
		ev := httpEvent("POST", "/echo", base64.StdEncoding.EncodeToString([]byte(`{"name":"b64"}`)), func(e map[string]any) { e["isBase64Encoded"] = v })
		if a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, ev)); a.Code != "OK" || a.Data["name"] != "b64" {
			t.Fatalf("isBase64Encoded=%v: %s %v", v, a.Code, a.Data)
		}
	}
	for _, v := range []any{"false", nil, false} {
		ev := httpEvent("POST", "/echo", `{"name":"plain"}`, func(e map[string]any) { e["isBase64Encoded"] = v })
		if a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, ev)); a.Code != "OK" || a.Data["name"] != "plain" {
			t.Fatalf("isBase64Encoded=%v: %s %v", v, a.Code, a.Data)
		}
	}
}

// TestTrustBoundary checks that the client IP and the event kind come from
// what the platform sets, never from what a caller controls.
func TestTrustBoundary(t *testing.T) {
	forgedHTTP := map[string]any{
		"httpMethod": "POST", "path": "/echo", "body": `{"name":"x"}`,
		"headers":  map[string]any{"x-scf-remote-addr": "6.6.6.6"},
		"userInfo": map[string]any{"appId": appID, "openId": "o-caller"},
	}
	// A wx.cloud call shaped as an HTTP event is a direct invocation: its
	// HTTP-looking members are unknown body fields, not a request.
	for _, event := range []map[string]any{forgedHTTP, {
		"httpMethod": "POST", "headers": map[string]any{"x-scf-remote-addr": "6.6.6.6"}, "tcbContext": map[string]any{},
	}} {
		a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, event))
		if a.Status != 0 || a.Code != "INVALID_REQUEST" {
			t.Fatalf("a wx.cloud call shaped as HTTP answered %d %s, want a direct INVALID_REQUEST", a.Status, a.Code)
		}
	}
	tests := []struct {
		name       string
		event      map[string]any
		wantKind   string
		wantIP     string
		wantCaller string
	}{
		{"API Gateway without sourceIp reads no header", httpEvent("POST", "/echo", `{}`, func(e map[string]any) {
			e["requestContext"] = map[string]any{"sourceIp": ""}
			e["headers"] = map[string]any{"x-scf-remote-addr": "6.6.6.6"}
		}), "apigateway", "", ""},
		{"function URL: the platform's lower-case header wins", httpEvent("POST", "/echo", `{}`, func(e map[string]any) {
			delete(e, "requestContext")
			e["headers"] = map[string]any{"X-Scf-Remote-Addr": "6.6.6.6", "x-scf-remote-addr": "198.51.100.1", "X-SCF-REMOTE-ADDR": "7.7.7.7"}
		}), "functionurl", "198.51.100.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Several times: map order must not decide.
			for i := 0; i < 20; i++ {
				a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, tt.event))
				if a.Code != "OK" {
					t.Fatalf("answered %s %v", a.Code, a.Data)
				}
				if a.Data["kind"] != tt.wantKind || a.Data["ip"] != tt.wantIP || a.Data["caller"] != tt.wantCaller {
					t.Fatalf("kind %v, ip %v, caller %v; want %s, %q, %q", a.Data["kind"], a.Data["ip"], a.Data["caller"], tt.wantKind, tt.wantIP, tt.wantCaller)
				}
			}
		})
	}
}

// A route ending in a {name} segment matches one segment there, also
// below a base path, and hands it to the handler; nothing else changes.
func TestRouteWithAPathValue(t *testing.T) {
	f := newFunction(new(bytes.Buffer))
	seen := ""
	f.Routes = append(f.Routes, adapter.Route{Method: "DELETE", Path: "/echo/items/{id}", Action: "drop",
		Handle: func(_ context.Context, req *adapter.Request) (any, error) {
			seen = req.PathValue
			return map[string]any{"path": req.Path}, nil
		}})
	for path, want := range map[string]string{
		"/echo/items/abc-1": "abc-1", "/api/echo/items/x_2/": "x_2",
	} {
		seen = ""
		if a := invoke(t, f, encode(t, httpEvent("DELETE", path, ``))); a.Code != "OK" || seen != want || a.Data["path"] != "/echo/items/{id}" {
			t.Errorf("%s: %s, value %q, want OK and %q", path, a.Code, seen, want)
		}
	}
	for _, path := range []string{"/echo/items", "/echo/items/", "/echo/items/a/b", "/echo/itemsx/a"} {
		if a := invoke(t, f, encode(t, httpEvent("DELETE", path, ``))); a.Code == "OK" {
			t.Errorf("%s routed to the item route", path)
		}
	}
	if a := invoke(t, f, encode(t, httpEvent("POST", "/echo", `{"name":"n"}`))); a.Code != "OK" {
		t.Errorf("other routes: %s", a.Code)
	}
}

// A DELETE's body is read like a POST's (some clients send one, others
// cannot); an empty one is no fields.
func TestDELETEBody(t *testing.T) {
	f := newFunction(new(bytes.Buffer))
	f.Routes = append(f.Routes, adapter.Route{Method: "DELETE", Path: "/echo", Action: "remove", Handle: echo})
	if a := invoke(t, f, encode(t, httpEvent("DELETE", "/echo", `{"name":"gone"}`))); a.Code != "OK" || a.Data["name"] != "gone" {
		t.Fatalf("got %s %v", a.Code, a.Data)
	}
	if a := invoke(t, f, encode(t, httpEvent("DELETE", "/echo", ``))); a.Code != "OK" {
		t.Fatalf("empty body: %s", a.Code)
	}
	if a := invoke(t, f, encode(t, httpEvent("DELETE", "/echo", `not json`))); a.Code != "INVALID_REQUEST" {
		t.Fatalf("bad body: %s", a.Code)
	}
}
