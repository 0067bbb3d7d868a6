package adapter_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

// withContext is a context carrying env as the invocation's Environment,
// as scf-go-lib hands it to a function.
func withContext(env map[string]string) context.Context {
	return functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{RequestID: "req-ctx", Environment: env})
}

// wxCaller is the context of a wx.cloud call from user openID of app.
func wxCaller(app, openID string, more ...string) map[string]string {
	env := map[string]string{"WX_APPID": app, "WX_OPENID": openID}
	for i := 0; i+1 < len(more); i += 2 {
		env[more[i]] = more[i+1]
	}
	keys := ""
	for k := range env {
		if keys != "" {
			keys += ","
		}
		keys += k
	}
	env["WX_CONTEXT_KEYS"] = keys
	return env
}

func TestCallerFromTheInvocationContext(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		event       string
		wantCode    string
		wantCaller  string
		wantUnionID string
		wantIP      string
		wantKey     string
	}{
		{"context alone", wxCaller(appID, "o-ctx"), `{"name":"a"}`, "OK", "o-ctx", "", "", "openid:o-ctx"},
		{"with unionid and address", wxCaller(appID, "o-ctx", "WX_UNIONID", "u-1", "WX_CLIENTIP", "::ffff:203.0.113.5"), `{}`, "OK", "o-ctx", "u-1", "203.0.113.5", "ip:203.0.113.5"},
		{"an IPv6 address", wxCaller(appID, "o-ctx", "WX_CLIENTIPV6", "2001:db8:5:6::7"), `{}`, "OK", "o-ctx", "", "2001:db8:5:6::7", "ip:2001:db8:5:6::/64"},
		{"an unparsable address counts by the caller", wxCaller(appID, "o-ctx", "WX_CLIENTIP", "nowhere"), `{}`, "OK", "o-ctx", "", "", "openid:o-ctx"},
		{"keys without WX_CONTEXT_KEYS", map[string]string{"WX_APPID": appID, "WX_OPENID": "o-bare"}, `{}`, "OK", "o-bare", "", "", "openid:o-bare"},
		{"a key WX_CONTEXT_KEYS does not list is not context", map[string]string{"WX_CONTEXT_KEYS": "WX_APPID", "WX_APPID": appID, "WX_OPENID": "o-unlisted"}, `{}`, "OK", "", "", "", adapter.UntrustedDirectKey},
		{"another app's caller is not trusted", wxCaller("wxother", "o-other", "WX_CLIENTIP", "203.0.113.5"), `{}`, "OK", "", "", "", adapter.UntrustedDirectKey},
		{"a context without an openid is no caller", map[string]string{"WX_CONTEXT_KEYS": "WX_APPID", "WX_APPID": appID}, `{}`, "OK", "", "", "", adapter.UntrustedDirectKey},
		{"other per-invocation variables are no caller", map[string]string{"SCF_NAMESPACE": "default", "TENCENTCLOUD_SESSIONTOKEN": "x"}, `{}`, "OK", "", "", "", adapter.UntrustedDirectKey},
		{"userInfo that agrees", wxCaller(appID, "o-both", "WX_UNIONID", "u-2"), `{"userInfo":{"appId":"` + appID + `","openId":"o-both"}}`, "OK", "o-both", "u-2", "", "openid:o-both"},
		{"userInfo of another user", wxCaller(appID, "o-ctx"), `{"userInfo":{"appId":"` + appID + `","openId":"o-victim"}}`, "UNAUTHORIZED", "", "", "", ""},
		{"userInfo of another app", wxCaller(appID, "o-ctx"), `{"userInfo":{"appId":"wxother","openId":"o-ctx"}}`, "UNAUTHORIZED", "", "", "", ""},
		{"userInfo naming a user the context does not", map[string]string{"WX_CONTEXT_KEYS": "WX_APPID,WX_FROM_APPID,WX_FROM_OPENID", "WX_APPID": appID, "WX_FROM_APPID": "wxsharer", "WX_FROM_OPENID": "o-sharer"}, `{"userInfo":{"appId":"` + appID + `","openId":"o-victim"}}`, "UNAUTHORIZED", "", "", "", ""},
		{"resource sharing names no trusted caller", map[string]string{"WX_CONTEXT_KEYS": "WX_FROM_APPID,WX_FROM_OPENID", "WX_FROM_APPID": appID, "WX_FROM_OPENID": "o-sharer"}, `{}`, "OK", "", "", "", adapter.UntrustedDirectKey},
		{"an HTTP-shaped event from a wx.cloud caller is direct", wxCaller(appID, "o-ctx"), `{"httpMethod":"POST","path":"/echo","headers":{"x-scf-remote-addr":"6.6.6.6"}}`, "INVALID_REQUEST", "", "", "", ""},
		{"context keys inside the event are fields, never a caller", nil, `{"WX_OPENID":"o-forged","WX_APPID":"` + appID + `"}`, "INVALID_REQUEST", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := invokeIn(t, withContext(tt.env), newFunction(new(bytes.Buffer)), []byte(tt.event))
			if a.Status != 0 {
				t.Fatalf("answered as HTTP (%d): a wx.cloud call is a direct invocation", a.Status)
			}
			if a.Code != tt.wantCode {
				t.Fatalf("answered %s %v, want %s", a.Code, a.Data, tt.wantCode)
			}
			if a.Code != "OK" {
				return
			}
			if a.Data["caller"] != tt.wantCaller || a.Data["unionid"] != tt.wantUnionID {
				t.Errorf("caller %v unionid %v, want %q %q", a.Data["caller"], a.Data["unionid"], tt.wantCaller, tt.wantUnionID)
			}
			if a.Data["ip"] != tt.wantIP || a.Data["key"] != tt.wantKey {
				t.Errorf("ip %v key %v, want %q %q", a.Data["ip"], a.Data["key"], tt.wantIP, tt.wantKey)
			}
		})
	}
}

// TestCallerIsNeverReadFromTheProcessEnvironment: scf-go-lib copies each
// invocation's context into the process environment, where it stays.
// An invocation without a context has no caller, whatever is there.
func TestCallerIsNeverReadFromTheProcessEnvironment(t *testing.T) {
	for k, v := range wxCaller(appID, "o-earlier", "WX_UNIONID", "u-earlier", "WX_CLIENTIP", "203.0.113.9") {
		t.Setenv(k, v)
	}
	for _, ctx := range []context.Context{
		context.Background(),
		withContext(nil),
		withContext(map[string]string{"SCF_NAMESPACE": "default"}),
	} {
		a := invokeIn(t, ctx, newFunction(new(bytes.Buffer)), []byte(`{"name":"a"}`))
		if a.Code != "OK" || a.Data["caller"] != "" || a.Data["ip"] != "" || a.Data["key"] != adapter.UntrustedDirectKey {
			t.Fatalf("an invocation without a context answered %s caller %v ip %v key %v", a.Code, a.Data["caller"], a.Data["ip"], a.Data["key"])
		}
	}
}

// TestHTTPEventsIgnoreAnAddressOnlyContext: an address alone names no
// wx.cloud caller, so an HTTP event stays HTTP and keeps the address the
// trigger reported.
func TestHTTPEventsIgnoreAnAddressOnlyContext(t *testing.T) {
	ctx := withContext(map[string]string{"WX_CONTEXT_KEYS": "WX_CLIENTIP", "WX_CLIENTIP": "6.6.6.6"})
	a := invokeIn(t, ctx, newFunction(new(bytes.Buffer)), encode(t, httpEvent("POST", "/echo", `{}`)))
	if a.Status != 200 || a.Data["kind"] != "apigateway" || a.Data["ip"] != "203.0.113.9" {
		t.Fatalf("answered %d kind %v ip %v", a.Status, a.Data["kind"], a.Data["ip"])
	}
}
