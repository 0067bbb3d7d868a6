package adapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

// The platform's own samples (testdata/platform, see its SOURCES.md) are
// golden events: each is sent as the platform sends it, and the test
// checks what the adapter made of it and the shape of the answer.

// probe answers what the adapter made of a request, fields included.
func probe(_ context.Context, req *adapter.Request) (any, error) {
	var fields []string
	for k := range req.Fields {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	caller, unionID := "", ""
	if req.Caller != nil {
		caller, unionID = req.Caller.OpenID, req.Caller.UnionID
	}
	return map[string]any{
		"kind": string(req.Kind), "method": req.Method, "path": req.Path, "ip": req.ClientIP, "key": req.ClientKey(),
		"fields": strings.Join(fields, ","), "caller": caller, "unionid": unionID,
	}, nil
}

// probeFunction answers every method and path of the samples: its root
// route (the function URL's "/") and the API Gateway samples' paths.
func probeFunction(trustedApp string) *adapter.Function {
	var routes []adapter.Route
	for _, m := range []string{"GET", "POST"} {
		routes = append(routes,
			adapter.Route{Method: m, Path: "/probe", Action: "probe" + m, Handle: probe},
			adapter.Route{Method: m, Path: "/test/value", Handle: probe},
			adapter.Route{Method: m, Path: "/ritchiechen-apigw-test", Handle: probe})
	}
	return &adapter.Function{
		Name: "probe", Routes: routes, DefaultAction: "probePOST", MiniPrograms: []string{trustedApp},
		Logger: slog.New(slog.NewJSONHandler(new(bytes.Buffer), nil)),
	}
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "platform", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wxContextOf turns what getWXContext() returns back into the context it
// was read from: wx-server-sdk strips the WX_ prefix of the keys
// WX_CONTEXT_KEYS lists.
func wxContextOf(t *testing.T, sample []byte) map[string]string {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal(sample, &got); err != nil {
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

type sampleWant struct {
	kind, method, path, ip, key, fields, caller, unionID, requestID string
}

func TestPlatformSamples(t *testing.T) {
	legacy := readSample(t, "wxcloud-event-userInfo-legacy.json")
	wxctx := wxContextOf(t, readSample(t, "wxcloud-getWXContext-result.json"))
	withUserInfo := []byte(`{"userInfo":` + string(legacy) + `}`)
	tests := []struct {
		name string
		// sample is the file; event, when set, is the event built from it.
		sample      string
		event       []byte
		environment map[string]string
		trustedApp  string
		want        sampleWant
	}{
		{name: "API Gateway POST (Tencent's doc)", sample: "apigw-tencent-doc.json",
			want: sampleWant{kind: "apigateway", method: "POST", path: "/test/value", ip: "10.0.2.14", key: "ip:10.0.2.14", fields: "test", requestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}},
		{name: "API Gateway GET with array and boolean query values (scf-go-lib)", sample: "apigw-scf-go-lib-test.json",
			want: sampleWant{kind: "apigateway", method: "GET", path: "/ritchiechen-apigw-test", ip: "8.8.8.8", key: "ip:8.8.8.8"}},
		{name: "API Gateway GET at / (a deployed function's event)", sample: "apigw-scf-cli-docs-get.json",
			want: sampleWant{kind: "apigateway", method: "GET", path: "/probe", ip: "20.197.69.95", key: "ip:20.197.69.95"}},
		{name: "function URL (2025 doc, with x-scf-remote-addr)", sample: "function-url-doc-2025.json",
			want: sampleWant{kind: "functionurl", method: "POST", path: "/probe", ip: "111.206.96.145", key: "ip:111.206.96.145", fields: "test"}},
		{name: "function URL (2023 doc, no address: the shared key)", sample: "function-url-doc-2023.json",
			want: sampleWant{kind: "functionurl", method: "POST", path: "/probe", ip: "", key: adapter.UnknownClientKey, fields: "test"}},
		{name: "legacy userInfo of an app that is not the deployment's", sample: "wxcloud-event-userInfo-legacy.json", event: withUserInfo,
			want: sampleWant{kind: "direct", method: "POST", path: "/probe", key: adapter.UntrustedDirectKey}},
		{name: "legacy userInfo of the deployment's app", sample: "wxcloud-event-userInfo-legacy.json", event: withUserInfo, trustedApp: "xxx",
			want: sampleWant{kind: "direct", method: "POST", path: "/probe", key: "openid:yyy", caller: "yyy"}},
		{name: "getWXContext's context of an app that is not the deployment's", sample: "wxcloud-getWXContext-result.json", event: []byte(`{}`), environment: wxctx,
			want: sampleWant{kind: "direct", method: "POST", path: "/probe", key: adapter.UntrustedDirectKey}},
		{name: "getWXContext's context of the deployment's app", sample: "wxcloud-getWXContext-result.json", event: []byte(`{}`), environment: wxctx, trustedApp: "xxx",
			want: sampleWant{kind: "direct", method: "POST", path: "/probe", key: "openid:yyy", caller: "yyy", unionID: "zzz"}},
		{name: "both, agreeing (the two samples name one caller)", sample: "wxcloud-getWXContext-result.json", event: withUserInfo, environment: wxctx, trustedApp: "xxx",
			want: sampleWant{kind: "direct", method: "POST", path: "/probe", key: "openid:yyy", caller: "yyy", unionID: "zzz"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.sample] = true
		t.Run(tt.name, func(t *testing.T) {
			event := tt.event
			if event == nil {
				event = readSample(t, tt.sample)
			}
			ctx := context.Background()
			if tt.environment != nil {
				ctx = withContext(tt.environment)
			}
			a := invokeIn(t, ctx, probeFunction(tt.trustedApp), event)
			if a.Code != "OK" {
				t.Fatalf("answered %d %s %v", a.Status, a.Code, a.Data)
			}
			w := tt.want
			got := sampleWant{
				kind: str(a.Data["kind"]), method: str(a.Data["method"]), path: str(a.Data["path"]), ip: str(a.Data["ip"]),
				key: str(a.Data["key"]), fields: str(a.Data["fields"]), caller: str(a.Data["caller"]), unionID: str(a.Data["unionid"]),
				requestID: w.requestID,
			}
			if got != w {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if w.requestID != "" && a.ReqID != w.requestID {
				t.Errorf("requestId %q, want the gateway's %q", a.ReqID, w.requestID)
			}
			if http := w.kind != "direct"; http != (a.Status != 0) {
				t.Errorf("a %s event answered status %d", w.kind, a.Status)
			}
		})
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "platform"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !covered[e.Name()] {
			t.Errorf("sample %s is not a golden test", e.Name())
		}
	}
}

// TestPlatformSamplesAnswerInTheirShape checks the raw answer: an HTTP
// sample gets the integrated response a function URL and API Gateway
// turn into HTTP, a direct one the envelope itself.
func TestPlatformSamplesAnswerInTheirShape(t *testing.T) {
	for _, name := range []string{"apigw-tencent-doc.json", "apigw-scf-go-lib-test.json", "apigw-scf-cli-docs-get.json", "function-url-doc-2025.json", "function-url-doc-2023.json"} {
		out, err := probeFunction("").Invoke(context.Background(), readSample(t, name))
		if err != nil {
			t.Fatal(err)
		}
		var resp map[string]json.RawMessage
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range resp {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "body,headers,isBase64Encoded,statusCode" || string(resp["isBase64Encoded"]) != "false" {
			t.Errorf("%s: answer %s is not an integrated response", name, out)
		}
	}
	out, err := probeFunction("").Invoke(context.Background(), []byte(`{"userInfo":`+string(readSample(t, "wxcloud-event-userInfo-legacy.json"))+`}`))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(out, &env); err != nil || env["code"] == nil || env["statusCode"] != nil {
		t.Errorf("a direct invocation answered %s, not the envelope", out)
	}
}

func str(v any) string { s, _ := v.(string); return s }
