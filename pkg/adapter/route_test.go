package adapter_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

// routed answers which route served the request.
func routed(name string) adapter.HandlerFunc {
	return func(_ context.Context, req *adapter.Request) (any, error) {
		return map[string]any{"route": name, "path": req.Path}, nil
	}
}

// profileLike and tokenLike have the routes of the profile and token
// functions: one with a root route and sub-routes, one with sub-routes only.
func profileLike() *adapter.Function {
	return &adapter.Function{
		Name: "profile",
		Routes: []adapter.Route{
			{Method: "GET", Path: "/profile", Action: "get", Handle: routed("get")},
			{Method: "PATCH", Path: "/profile", Action: "update", Handle: routed("update")},
			{Method: "POST", Path: "/profile/phone", Action: "bindPhone", Handle: routed("bindPhone")},
			{Method: "DELETE", Path: "/profile/phone", Action: "unbindPhone", Handle: routed("unbindPhone")},
			{Method: "DELETE", Path: "/profile/sessions/{id}", Action: "revokeSession", Handle: routed("revokeSession")},
		},
		Logger: slog.New(slog.NewJSONHandler(new(bytes.Buffer), nil)),
	}
}

func tokenLike() *adapter.Function {
	return &adapter.Function{
		Name: "token",
		Routes: []adapter.Route{
			{Method: "POST", Path: "/token/refresh", Action: "refresh", Handle: routed("refresh")},
			{Method: "POST", Path: "/token/logout", Action: "logout", Handle: routed("logout")},
		},
		Logger: slog.New(slog.NewJSONHandler(new(bytes.Buffer), nil)),
	}
}

// TestRoutesUnderAFunctionURL checks the paths of API.md §1: a function
// URL's path is what follows the function's segment ("/", "/phone"), and
// the full route routes the same, also below a base path.
func TestRoutesUnderAFunctionURL(t *testing.T) {
	tests := []struct {
		name      string
		fn        *adapter.Function
		method    string
		path      string
		wantCode  string
		wantRoute string
		wantAllow string
	}{
		{"function URL root", profileLike(), "GET", "/", "OK", "get", ""},
		{"function URL empty path", profileLike(), "GET", "", "OK", "get", ""},
		{"function URL root, other method", profileLike(), "PATCH", "/", "OK", "update", ""},
		{"function URL sub-route", profileLike(), "POST", "/phone", "OK", "bindPhone", ""},
		{"function URL sub-route with a trailing slash", profileLike(), "DELETE", "/phone/", "OK", "unbindPhone", ""},
		{"function URL sub-route with a query", profileLike(), "POST", "/phone?x=1", "OK", "bindPhone", ""},
		{"full route", profileLike(), "POST", "/profile/phone", "OK", "bindPhone", ""},
		{"full route below a base path", profileLike(), "POST", "/api/v1/profile/phone", "OK", "bindPhone", ""},
		{"root route below a base path", profileLike(), "GET", "/release/profile", "OK", "get", ""},
		{"root, wrong method", profileLike(), "PUT", "/", "METHOD_NOT_ALLOWED", "", "GET, PATCH"},
		{"sub-route, wrong method", profileLike(), "GET", "/phone", "METHOD_NOT_ALLOWED", "", "DELETE, POST"},
		{"a sub-route is not a base path", profileLike(), "POST", "/api/phone", "NOT_FOUND", "", ""},
		{"unknown sub-route", profileLike(), "POST", "/email", "NOT_FOUND", "", ""},
		{"a longer segment is another route", profileLike(), "GET", "/myprofile", "NOT_FOUND", "", ""},
		{"below a route is another route", profileLike(), "POST", "/profile/phone/more", "NOT_FOUND", "", ""},
		{"a placeholder's segment", profileLike(), "DELETE", "/sessions/abc", "OK", "revokeSession", ""},
		{"a placeholder's segment, full route", profileLike(), "DELETE", "/profile/sessions/abc", "OK", "revokeSession", ""},
		{"a path that goes on after a route is not a base path", profileLike(), "DELETE", "/profile/sessions/abc/profile", "NOT_FOUND", "", ""},
		{"nor after a sub-route", profileLike(), "DELETE", "/sessions/abc/profile", "NOT_FOUND", "", ""},
		{"nor after the root route", profileLike(), "GET", "/profile/x/profile", "NOT_FOUND", "", ""},
		{"a dot segment is no base path", profileLike(), "DELETE", "/sessions/../profile", "NOT_FOUND", "", ""},
		{"nor is a dot segment below a base path", profileLike(), "GET", "/api/./profile", "NOT_FOUND", "", ""},
		{"token sub-route", tokenLike(), "POST", "/refresh", "OK", "refresh", ""},
		{"token full route", tokenLike(), "POST", "/token/logout", "OK", "logout", ""},
		{"token has no root route", tokenLike(), "POST", "/", "NOT_FOUND", "", ""},
		{"the function segment alone is not a route of token", tokenLike(), "POST", "/token", "NOT_FOUND", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := map[string]any{"httpMethod": tt.method, "path": tt.path, "body": "", "headers": map[string]any{"x-scf-remote-addr": "198.51.100.1"}}
			a := invoke(t, tt.fn, encode(t, ev))
			if a.Code != tt.wantCode {
				t.Fatalf("%s %q answered %d %s, want %s", tt.method, tt.path, a.Status, a.Code, tt.wantCode)
			}
			if tt.wantRoute != "" && a.Data["route"] != tt.wantRoute {
				t.Errorf("served by %v, want %s", a.Data["route"], tt.wantRoute)
			}
			if tt.wantAllow != "" && a.Headers["Allow"] != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", a.Headers["Allow"], tt.wantAllow)
			}
		})
	}
}

// TestSendSMSShapedRoot checks a function whose only route is its root
// (send-sms): "/" is its POST, and nothing else below it is.
func TestSendSMSShapedRoot(t *testing.T) {
	f := &adapter.Function{
		Name:   "send-sms",
		Routes: []adapter.Route{{Method: "POST", Path: "/send-sms", Action: "send", Handle: routed("send")}},
		Logger: slog.New(slog.NewJSONHandler(new(bytes.Buffer), nil)),
	}
	for path, want := range map[string]string{
		"/": "OK", "": "OK", "/send-sms": "OK", "/api/send-sms": "OK",
		"/phone": "NOT_FOUND", "/send-sms/x": "NOT_FOUND", "/xsend-sms": "NOT_FOUND",
	} {
		ev := map[string]any{"httpMethod": "POST", "path": path, "body": "{}", "headers": map[string]any{}}
		if a := invoke(t, f, encode(t, ev)); a.Code != want {
			t.Errorf("POST %q: %s, want %s", path, a.Code, want)
		}
	}
}
